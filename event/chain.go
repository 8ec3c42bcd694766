package event

import "fmt"

// VerifyRange checks that events are a contiguous run of one origin's log
// that follows prev (the hash of the origin's event just before the first;
// zero when the run starts at seq 1), that each links to its predecessor,
// and that seal vouches for the last one. It returns the hash of the last
// event. Each event must already have passed Validate.
func VerifyRange(prev Hash, events []*Event, seal *Seal) (Hash, error) {
	if len(events) == 0 {
		return prev, fmt.Errorf("%w: empty range", ErrInvalid)
	}
	origin, next := events[0].Device, events[0].Seq
	if (next == 1) != prev.IsZero() {
		return prev, fmt.Errorf("%w: range from %s/%d does not follow prev %s", ErrInvalid, origin, next, prev)
	}
	head := prev
	for _, e := range events {
		if e.Device != origin || e.Seq != next {
			return prev, fmt.Errorf("%w: range not contiguous at %s/%d", ErrInvalid, e.Device, e.Seq)
		}
		if e.Prev != head {
			return prev, fmt.Errorf("%w: hash chain broken at %s/%d", ErrInvalid, e.Device, e.Seq)
		}
		head = e.Hash()
		next++
	}
	last := events[len(events)-1]
	if seal == nil || seal.Origin != origin || seal.Seq != last.Seq || seal.Head != head {
		return prev, fmt.Errorf("%w: no seal for %s/%d", ErrInvalid, origin, last.Seq)
	}
	if err := seal.Verify(); err != nil {
		return prev, err
	}
	return head, nil
}
