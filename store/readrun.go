package store

import (
	"errors"
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// ReadRun returns held events of origin from seq from on, contiguous, up to
// and including the first event at or after seq to that a held seal
// vouches for, together with that seal. It stops early, with a nil seal, at
// the first seq not held, or before an event that would take the events'
// encodings past maxBytes (it always returns at least one event when from
// is held). This is what the sync protocol sends: runs a seal covers.
func (s *Store) ReadRun(origin string, from, to uint64, maxBytes int) ([]*event.Event, *event.Seal, error) {
	encs, seal, err := s.ReadRunEncoded(origin, from, to, maxBytes)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*event.Event, len(encs))
	for i, enc := range encs {
		out[i] = new(event.Event)
		if err := out[i].UnmarshalBinary(enc.Bytes); err != nil {
			return nil, nil, fmt.Errorf("store: corrupt event %s/%d: %w", origin, enc.Seq, err)
		}
	}
	return out, seal, nil
}

// runSeal returns the seal a run of origin read from seq from up to seq to
// ends at, and its seq (the largest seq when no seal is held there).
func (s *Store) runSeal(origin string, from, to uint64) (event.Seal, uint64, error) {
	seal, err := s.NextSeal(origin, max(from, to))
	switch {
	case err == nil:
		return seal, seal.Seq, nil
	case errors.Is(err, ErrNotFound):
		return seal, ^uint64(0), nil
	}
	return seal, 0, err
}

// Holds reports whether the committed context holds d.
func (s *Store) Holds(d crdt.Dot) bool {
	if !s.acc.mayHold(d) { // not even in the log: no need to wait for the index
		return false
	}
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx.Contains(d)
}
