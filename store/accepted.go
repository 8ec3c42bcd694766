package store

import (
	"sync"

	"github.com/rumor-sync/rumor/crdt"
)

// acceptedDots is every dot the writer has taken in: written to the log
// (durable or about to be) or installed. It is a superset of the committed
// context, so a dot outside it is not held, which a reader can tell at
// once instead of waiting for the index to catch up with the log. The
// writer changes it (under mu) and reads it without the lock, as its own
// known set.
type acceptedDots struct {
	mu  sync.RWMutex
	ctx *crdt.Context // nil until the writer starts
}

// init starts the set as a copy of c and returns it.
func (a *acceptedDots) init(c *crdt.Context) *crdt.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ctx = c.Clone()
	return a.ctx
}

func (a *acceptedDots) merge(c *crdt.Context) {
	a.mu.Lock()
	a.ctx.Merge(c)
	a.mu.Unlock()
}

// mayHold reports whether d may be held: false only when it certainly is
// not.
func (a *acceptedDots) mayHold(d crdt.Dot) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ctx == nil || a.ctx.Contains(d)
}

func (a *acceptedDots) highest(origin string) (uint64, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ctx == nil {
		return 0, false
	}
	return a.ctx.Highest(origin), true
}

// Highest returns the highest seq of origin the store holds or is
// storing: it holds no event of origin past it. It does not wait for the
// index.
func (s *Store) Highest(origin string) uint64 {
	if h, ok := s.acc.highest(origin); ok {
		return h
	}
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx.Highest(origin)
}
