package simulations

import (
	"fmt"
	"slices"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// store is a simulated node's replica: the syncproto.Replica its sessions
// read, plus what the driver does to it.
type store interface {
	syncproto.Replica
	// ingest stores a local batch (events of this node's own origin).
	ingest(events []*event.Event, hashes []event.Hash, seal *event.Seal) error
	// apply stores an Apply effect and calls added for each event that
	// was not held.
	apply(a syncproto.Apply, added func(e *event.Event)) error
	// verify checks the Replica contract: every held block of an origin
	// ends with a held seal that verifies (costly: tests and small runs).
	verify() error
}

// Replica kinds (Options.Replica).
const (
	ReplicaLedger = "ledger" // compact replicas sharing the ledger's events (the default)
	ReplicaMem    = "mem"    // syncproto.MemReplica, one full copy per node
)

// ledgerStore is a compact Replica: its causal context and the seals it
// holds, with the events themselves read from the fleet's ledger, which
// holds exactly the bytes every replica would (events are immutable and
// authentic, and nothing forks in a simulation). It behaves as a
// MemReplica holding the same dots and seals, at a fraction of the memory.
type ledgerStore struct {
	l     *ledger
	ctx   *crdt.Context
	seals []uint64 // held seals as origin index << 40 | seq, sorted
}

var _ store = (*ledgerStore)(nil)

func newLedgerStore(l *ledger) *ledgerStore { return &ledgerStore{l: l, ctx: crdt.NewContext()} }

func sealKey(o int32, seq uint64) uint64 { return uint64(o)<<40 | seq }

func (s *ledgerStore) holdsSeal(o int32, seq uint64) bool {
	_, ok := slices.BinarySearch(s.seals, sealKey(o, seq))
	return ok
}

func (s *ledgerStore) addSeal(o int32, seq uint64) {
	k := sealKey(o, seq)
	if i, ok := slices.BinarySearch(s.seals, k); !ok {
		s.seals = slices.Insert(s.seals, i, k)
	}
}

// Context implements syncproto.Replica.
func (s *ledgerStore) Context() *crdt.Context { return s.ctx.Clone() }

// Hash implements syncproto.Replica.
func (s *ledgerStore) Hash(d crdt.Dot) (event.Hash, bool) {
	if !s.ctx.Contains(d) {
		return event.Hash{}, false
	}
	e, _ := s.l.lookup(d)
	return e.hash, true
}

// ReadRun implements syncproto.Replica with MemReplica's semantics.
func (s *ledgerStore) ReadRun(originID string, from, to uint64, maxBytes int) ([]*event.Event, *event.Seal, error) {
	oi, ok := s.l.byID[originID]
	if !ok || from == 0 {
		return nil, nil, nil
	}
	o := s.l.origins[oi]
	var out []*event.Event
	n := 0
	for seq := from; seq <= uint64(len(o.entries)); seq++ {
		e := &o.entries[seq-1]
		if !s.ctx.Contains(crdt.Dot{Origin: originID, Seq: seq}) || (len(out) > 0 && n+int(e.size) > maxBytes) {
			return out, nil, nil
		}
		out = append(out, e.ev)
		n += int(e.size)
		if seq >= to && e.seal != nil && s.holdsSeal(oi, seq) {
			return out, e.seal, nil
		}
	}
	return out, nil, nil
}

func (s *ledgerStore) ingest(events []*event.Event, _ []event.Hash, seal *event.Seal) error {
	first, last := events[0], events[len(events)-1]
	s.ctx.AddRange(crdt.Range{Origin: first.Device, From: first.Seq, To: last.Seq})
	s.addSeal(s.l.byID[seal.Origin], seal.Seq)
	return nil
}

func (s *ledgerStore) apply(a syncproto.Apply, added func(*event.Event)) error {
	for _, e := range a.Events {
		if e == nil || !(crdt.Dot{Origin: e.Device, Seq: e.Seq}).Valid() {
			return fmt.Errorf("simulations: apply: invalid event")
		}
		if s.ctx.Add(crdt.Dot{Origin: e.Device, Seq: e.Seq}) {
			added(e)
		}
	}
	for _, sl := range a.Seals {
		oi, ok := s.l.byID[sl.Origin]
		if !ok {
			return fmt.Errorf("simulations: apply: seal of unknown origin")
		}
		s.addSeal(oi, sl.Seq)
	}
	return nil
}

func (s *ledgerStore) verify() error {
	for _, r := range s.ctx.Ranges() {
		oi := s.l.byID[r.Origin]
		o := s.l.origins[oi]
		e := o.entries[r.To-1]
		if !s.holdsSeal(oi, r.To) || e.seal == nil {
			return fmt.Errorf("simulations: replica block %s ends without a held seal", r)
		}
		run := make([]*event.Event, 0, r.Len())
		for seq := r.From; seq <= r.To; seq++ {
			run = append(run, o.entries[seq-1].ev)
		}
		if _, err := syncproto.VerifyRun(nil, run, e.seal); err != nil {
			return fmt.Errorf("simulations: replica block %s: %w", r, err)
		}
	}
	return nil
}

// memStore is a syncproto.MemReplica: every node holds its own maps of
// events and seals. Runs with Options.Replica = "mem" use it, to check
// that the ledger kind changes nothing.
type memStore struct {
	*syncproto.MemReplica
}

var _ store = memStore{}

func (m memStore) ingest(events []*event.Event, hashes []event.Hash, seal *event.Seal) error {
	_, err := m.Apply(syncproto.Apply{Events: events, Hashes: hashes, Seals: []*event.Seal{seal}})
	return err
}

func (m memStore) apply(a syncproto.Apply, added func(*event.Event)) error {
	var fresh []*event.Event
	for _, e := range a.Events {
		if e == nil {
			return fmt.Errorf("simulations: apply: nil event")
		}
		if _, held := m.Hash(crdt.Dot{Origin: e.Device, Seq: e.Seq}); !held {
			fresh = append(fresh, e)
		}
	}
	if _, err := m.Apply(a); err != nil {
		return err
	}
	for _, e := range fresh {
		added(e)
	}
	return nil
}

func (m memStore) verify() error { return m.Verify() }
