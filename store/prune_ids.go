package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/event"
)

// maxSeenMS bounds the milliseconds dropBelow remembers as done; past it
// the memo restarts (a millisecond seen again is only checked again).
const maxSeenMS = 4096

// dropIDs removes the event_id entries of origin's pruned events (events,
// all at or below floor) from the buckets of their milliseconds. A bucket
// whose entries are all at or below floor is deleted through wb, which
// holds it before the run of those events (a WriteBatch commits in order,
// so the run never goes first). A bucket crossing the floor is replaced
// at once, in its own transaction, by one keyed by its first entry above
// the floor holding its entries above it: done before the run, so a crash
// leaves the run and the next Prune finishes the job, and in one
// transaction, so no entry above the floor is ever lost or doubled. A
// bucket's seqs increase, so the entries above the floor are its tail.
// The walk may run on a view older than a replacement it made: doing a
// bucket twice does the same thing twice. seen remembers the
// milliseconds already done in this walk.
func (s *Store) dropIDs(txn *badger.Txn, wb *badger.WriteBatch, origin string, events []*event.Event, floor uint64, seen map[idMS]struct{}) error {
	num, ok := s.origins.lookup(origin)
	if !ok {
		return nil // never indexed
	}
	var ents []idEntry
	for _, e := range events {
		ms := msOf(e.ID)
		if _, ok := seen[ms]; ok {
			continue
		}
		if len(seen) >= maxSeenMS {
			clear(seen)
		}
		seen[ms] = struct{}{}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: idOriginPrefix(ms, num)})
		for it.Rewind(); it.Valid(); it.Next() {
			var head idBucketHead
			var err error
			if head, _, ents, err = s.bucketItem(it.Item(), ents[:0]); err != nil {
				it.Close()
				return err
			}
			keep := 0
			for _, en := range ents {
				if en.seq > floor {
					keep++
				}
			}
			switch keep {
			case len(ents):
			case 0:
				err = wb.Delete(it.Item().KeyCopy(nil))
			default:
				tail := ents[len(ents)-keep:]
				err = s.db.Update(func(w *badger.Txn) error {
					if err := w.Set(idBucketKey(head.ms, head.num, tail[0].seq), encodeIDBucket(tail)); err != nil {
						return err
					}
					return w.Delete(it.Item().KeyCopy(nil))
				})
			}
			if err != nil {
				it.Close()
				return err
			}
		}
		it.Close()
	}
	return nil
}

// lookup returns origin's number, if it has one.
func (o *origins) lookup(origin string) (uint32, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	n, ok := o.byName[origin]
	return n, ok
}
