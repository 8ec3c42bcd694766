package store

// VersionVector returns the committed context's contiguous max seq per
// origin, without the digest Summary also computes.
func (s *Store) VersionVector() map[string]uint64 {
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx.VersionVector()
}
