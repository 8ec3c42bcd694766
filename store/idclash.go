package store

import (
	"cmp"
	"errors"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
)

// claimID reports whether the event at d may take the event_id index
// entry of id. Ids are unique per origin by construction, but a device can
// copy another event's id into one of its own; the index then keeps the
// event with the smaller (origin, seq), whatever order the two arrived
// in, so that GetByID and the time-ordered view are the same on every
// replica. The other event stays readable by its dot. Only remote events
// are checked (a local id has 62 fresh random bits), and the indexer lets
// earlier commits finish before indexing a batch with remote events
// (hasRemote), so that this read sees every entry written before.
func (t *txnBatch) claimID(id uuid.UUID, d crdt.Dot) (bool, error) {
	item, err := t.txn.Get(idKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var held crdt.Dot
	err = item.Value(func(v []byte) error {
		num, seq, err := decodeIDValue(v)
		if err != nil {
			return err
		}
		origin, ok := t.c.s.origins.name(num)
		if !ok {
			return errCorruptIDKey(item.Key())
		}
		held = crdt.Dot{Origin: origin, Seq: seq}
		return nil
	})
	if err != nil {
		return false, err
	}
	if c := cmp.Or(cmp.Compare(d.Origin, held.Origin), cmp.Compare(d.Seq, held.Seq)); c >= 0 {
		if c > 0 {
			t.c.s.log.Warn("two events share one event id; the id names the smaller dot", "event_id", id,
				"held", held.Origin, "held_seq", held.Seq, "other", d.Origin, "other_seq", d.Seq)
		}
		return false, nil
	}
	t.c.s.log.Warn("two events share one event id; the id names the smaller dot", "event_id", id,
		"held", d.Origin, "held_seq", d.Seq, "other", held.Origin, "other_seq", held.Seq)
	return true, nil
}

// hasRemote reports whether batch holds events of other origins.
func (c *syncer) hasRemote(batch []*group) bool {
	for _, g := range batch {
		for _, e := range g.events {
			if e.Device != c.s.cfg.Origin {
				return true
			}
		}
	}
	return false
}
