package store

import (
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
)

// AgedSeq returns the highest seq s in [lo, hi] such that origin's held
// events in (lo, s] have event times (ts) before cutoffMs: lo when the
// event at lo+1 is recent enough. It binary-searches on the assumption that
// an origin's event times grow with its seq (they do for events stamped at
// ingest); an origin whose times go back and forth gets an approximate
// answer. Every seq in (lo, hi] must be held.
func (s *Store) AgedSeq(origin string, cutoffMs int64, lo, hi uint64) (uint64, error) {
	for lo < hi { // invariant: events up to lo are old; the answer is in [lo, hi]
		mid := lo + (hi-lo+1)/2
		e, err := s.Get(crdt.Dot{Origin: origin, Seq: mid})
		if err != nil {
			return 0, fmt.Errorf("store: age of %s/%d: %w", origin, mid, err)
		}
		if e.TS < cutoffMs {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}
