package store

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// bucketItem decodes the event_id bucket at item, appending its entries
// to out, and resolves its origin.
func (s *Store) bucketItem(item *badger.Item, out []idEntry) (idBucketHead, string, []idEntry, error) {
	head, err := decodeIDBucketKey(item.Key())
	if err != nil {
		return head, "", out, err
	}
	origin, ok := s.origins.name(head.num)
	if !ok {
		return head, "", out, fmt.Errorf("store: id index names unknown origin number %d", head.num)
	}
	err = item.Value(func(v []byte) error {
		out, err = decodeIDBucket(head, v, out)
		return err
	})
	if err != nil {
		return head, "", out, fmt.Errorf("key %x: %w", item.Key(), err)
	}
	return head, origin, out, nil
}

// idDot returns the dot of the event with id. When several events share
// it (a device copied another's id into its own event), it names the
// smallest dot (origin, then seq), so every replica that holds them
// answers the same, and logs the clash. Pruned events do not count.
func (s *Store) idDot(txn *badger.Txn, id uuid.UUID) (crdt.Dot, bool, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idMSPrefix(msOf(id))})
	defer it.Close()
	var dots []crdt.Dot
	var ents []idEntry
	for it.Rewind(); it.Valid(); it.Next() {
		_, origin, es, err := s.bucketItem(it.Item(), ents[:0])
		if err != nil {
			return crdt.Dot{}, false, err
		}
		ents = es
		for _, e := range ents {
			if e.id == id && e.seq > s.Floor(origin) {
				dots = append(dots, crdt.Dot{Origin: origin, Seq: e.seq})
			}
		}
	}
	if len(dots) == 0 {
		return crdt.Dot{}, false, nil
	}
	best := dots[0]
	for _, d := range dots[1:] {
		if cmp.Or(cmp.Compare(d.Origin, best.Origin), cmp.Compare(d.Seq, best.Seq)) < 0 {
			best = d
		}
	}
	if len(dots) > 1 {
		s.log.Warn("events share one event id; the id names the smallest dot", "event_id", id,
			"events", len(dots), "named", best.Origin, "named_seq", best.Seq)
	}
	return best, true, nil
}

// latestID returns the greatest event id held whose HLC is at most upTo:
// it walks the buckets back from upTo's millisecond to the first one with
// such an entry.
func (s *Store) latestID(upTo event.HLC) (uuid.UUID, bool, error) {
	var best uuid.UUID
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixID}, Reverse: true})
		defer it.Close()
		hb := upTo.Bytes()
		seek := append(idMSPrefix(idMS(hb[:6])), bytes.Repeat([]byte{0xff}, idBucketKeyLen-7)...)
		var cur idMS
		var ents []idEntry
		for it.Seek(seek); it.Valid(); it.Next() {
			head, _, es, err := s.bucketItem(it.Item(), ents[:0])
			if err != nil {
				return err
			}
			if found && head.ms != cur {
				return nil
			}
			cur, ents = head.ms, es
			for _, e := range ents {
				if event.HLCOf(e.id).Compare(upTo) <= 0 && (!found || bytes.Compare(e.id[:], best[:]) > 0) {
					best, found = e.id, true
				}
			}
		}
		return nil
	})
	return best, found, err
}
