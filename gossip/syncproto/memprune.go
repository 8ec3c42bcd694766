package syncproto

import (
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// memFloor is a MemReplica origin's floor: its seq and the hash of the
// event there.
type memFloor struct {
	seq  uint64
	hash event.Hash
}

// Prune drops origin's events at or below floor, keeping their dots in the
// context, as a store's retention does: floor must be a seq within the
// contiguous prefix that the replica holds a seal for. Hash keeps
// answering for the floor itself, and sessions never offer what is gone.
func (m *MemReplica) Prune(origin string, floor uint64) error {
	l := m.logs[origin]
	cur := m.floors[origin]
	switch {
	case floor <= cur.seq:
		return nil
	case l == nil || floor > m.ctx.Max(origin) || l.seals[floor] == nil:
		return fmt.Errorf("syncproto: MemReplica.Prune: no sealed event %s/%d in the contiguous prefix", origin, floor)
	}
	m.floors[origin] = memFloor{seq: floor, hash: l.events[floor].hash}
	for seq := cur.seq + 1; seq <= floor; seq++ {
		delete(l.events, seq)
	}
	for seq := range l.seals {
		if seq < floor {
			delete(l.seals, seq)
		}
	}
	return nil
}

// Floor implements Floored.
func (m *MemReplica) Floor(origin string) uint64 { return m.floors[origin].seq }

// Holds reports whether the replica holds the event at d (not just its dot).
func (m *MemReplica) Holds(d crdt.Dot) bool {
	_, ok := m.Event(d)
	return ok
}
