package syncproto

import "github.com/rumor-sync/rumor/crdt"

// Floored is implemented by a Replica that no longer holds the oldest
// events of some origins (it pruned them, or joined from a snapshot
// without them) although their dots stay in its context, so that a peer
// never sends them back. A session never offers the peer events at or
// below a floor: the peer gets them from a replica that still has them.
type Floored interface {
	// Floor returns the seq at or below which the replica holds no events
	// of origin; 0 when it holds them all.
	Floor(origin string) uint64
}

// clipFloors removes from ranges what r holds no events of.
func clipFloors(r Replica, ranges []crdt.Range) []crdt.Range {
	f, ok := r.(Floored)
	if !ok {
		return ranges
	}
	out := ranges[:0]
	for _, rg := range ranges {
		if fl := f.Floor(rg.Origin); fl >= rg.From {
			if fl >= rg.To {
				continue
			}
			rg.From = fl + 1
		}
		out = append(out, rg)
	}
	return out
}
