package store

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/event"
)

// The migration from format 2 to 3 (idindex.go) builds the bucketed
// event_id index from the index runs, reading each run's events from its
// segment, and deletes the per-event keys of format 2 (i | id, 17 bytes;
// a bucket key is 19). It has two phases, told apart by the progress mark:
//
//  1. runs (mark: the last run key done): each batch takes whole runs, in
//     key order (by origin, then seq), until it has size events, writes
//     the buckets of their events (an origin's consecutive events of one
//     millisecond, as the indexer would) and deletes those events' format 2
//     keys, with the mark, in one transaction. Building from the runs, not
//     from the old keys, also indexes an event whose id another origin's
//     event had taken (format 2 kept one of the two).
//  2. sweep (mark: the last format 2 key deleted): deletes the format 2
//     keys left, which name no indexed event (an interrupted Prune's
//     leftovers).
//
// A batch redone after a crash writes the same keys again.

// legacyIDKeyLen is the length of a format 2 event_id key.
const legacyIDKeyLen = 1 + 16

// idIndexToV3 does one batch of the migration to format 3 (see above).
func idIndexToV3(s *Store, to byte, after []byte, size int) ([]byte, int, error) {
	if s.origins.byName == nil { // Open loads them after migrating
		if err := s.origins.load(s.db); err != nil {
			return nil, 0, err
		}
	}
	if after == nil || after[0] == prefixEvent {
		last, n, err := s.bucketRuns(to, after, size)
		if err != nil || n > 0 {
			return last, n, err
		}
		after = nil
	}
	return s.sweepLegacyIDs(to, after, size)
}

// originEvents are consecutive events of one origin, in seq order.
type originEvents struct {
	origin string
	events []*event.Event
}

// bucketRuns is one batch of phase 1.
func (s *Store) bucketRuns(to byte, after []byte, size int) ([]byte, int, error) {
	var groups []originEvents
	var last []byte
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvent}, PrefetchValues: true})
		defer it.Close()
		it.Seek([]byte{prefixEvent})
		if after != nil {
			it.Seek(after)
		}
		for ; it.Valid() && n < size; it.Next() {
			if after != nil && bytes.Equal(it.Item().Key(), after) {
				continue
			}
			d, err := decodeEventKey(it.Item().Key())
			if err != nil {
				return err
			}
			r, err := itemRun(it.Item())
			if err != nil {
				return err
			}
			events, err := s.runEvents(d.Origin, r, r.last())
			if err != nil {
				return err
			}
			if len(groups) == 0 || groups[len(groups)-1].origin != d.Origin {
				groups = append(groups, originEvents{origin: d.Origin})
			}
			g := &groups[len(groups)-1]
			g.events = append(g.events, events...)
			n += len(events)
			last = it.Item().KeyCopy(nil)
		}
		return nil
	})
	if err != nil || last == nil {
		return nil, 0, err
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, g := range groups {
			num, err := s.origins.number(txn, g.origin)
			if err != nil {
				return err
			}
			var b idBucket
			for _, e := range g.events {
				if !b.fits(num, e.Seq, e.ID) {
					if b.n > 0 {
						if err := txn.Set(b.key(), b.val); err != nil {
							return err
						}
					}
					b = idBucket{}
					b.reset(num, e.Seq, e.ID)
				} else {
					b.add(e.ID, e.Seq)
				}
				if err := txn.Delete(append([]byte{prefixID}, e.ID[:]...)); err != nil {
					return err
				}
			}
			if b.n > 0 {
				if err := txn.Set(b.key(), b.val); err != nil {
					return err
				}
			}
		}
		return txn.Set(keyMigrate, append([]byte{to}, last...))
	})
	if err != nil {
		return nil, 0, fmt.Errorf("commit batch: %w", err)
	}
	return last, n, nil
}

// sweepLegacyIDs is one batch of phase 2.
func (s *Store) sweepLegacyIDs(to byte, after []byte, size int) ([]byte, int, error) {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixID}})
		defer it.Close()
		it.Seek([]byte{prefixID})
		if after != nil {
			it.Seek(after)
		}
		for ; it.Valid() && len(keys) < size; it.Next() {
			k := it.Item().Key()
			if len(k) == legacyIDKeyLen && !bytes.Equal(k, after) {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return nil, 0, err
	}
	last := keys[len(keys)-1]
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(keyMigrate, append([]byte{to}, last...))
	})
	if err != nil {
		return nil, 0, fmt.Errorf("commit batch: %w", err)
	}
	return last, len(keys), nil
}
