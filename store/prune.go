package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Pruning (retention) removes raw events from a replica while keeping
// their dots in the causal context, so they are never pulled back, and
// their aggregates, which were folded in when they arrived.
//
// Prune(below) raises each origin's floor (floors.go) to the highest held
// seal at or below below[origin] and the contiguous maximum, then removes
// what lies at or below the floor: index runs (a run crossing the floor is
// cut, in one transaction), event_id entries (a bucket crossing the floor
// is rewritten with its entries above it, in one transaction, before the
// runs of its pruned events go: prune_ids.go), seals other than the
// floor's, and finally the segment files none of whose events are still
// indexed.
//
// Crash safety: the new floors are written and synced first, so from then
// on the replica never offers those events (a sync sender clips its ranges
// at the floors) and a crash in the middle leaves only leftovers below a
// floor, which the next Prune removes. Nothing above a floor is touched,
// and segment files are deleted only after the index no longer names them
// (synced) and every reader that could still hold an older view of the
// index is done (readerEpochs).
//
// Space: segments are append-only files of many origins' records, so
// space comes back a whole segment at a time, once every event in it is
// pruned (with retention by age or by archived watermark, old segments
// empty out as a whole). Badger's own files shrink as its compactions
// drop the deleted keys.

// PruneResult says what one Prune call removed.
type PruneResult struct {
	// Floors are the new floors of the origins whose floor moved.
	Floors map[string]uint64
	// Events is how many events' index entries were removed.
	Events uint64
	// Segments and SegmentBytes count the segment files deleted.
	Segments     int
	SegmentBytes int64
	// Blobs are the CIDs the removed events referenced: candidates for
	// UnreferencedBlobs and the blob store's Delete.
	Blobs []cid.Cid
}

// Prune removes the held events of each origin o at or below below[o] (see
// the comment above). The floor stops at the origin's contiguous maximum
// and at a seq this replica holds a seal for, so it may end lower than
// asked. It is idempotent; concurrent calls are serialised.
func (s *Store) Prune(ctx context.Context, below map[string]uint64) (PruneResult, error) {
	s.gate.RLock() // Close waits for a running Prune
	defer s.gate.RUnlock()
	if s.closed {
		return PruneResult{}, ErrClosed
	}
	if err := s.Err(); err != nil {
		return PruneResult{}, err
	}
	s.pr.mu.Lock()
	defer s.pr.mu.Unlock()
	res := PruneResult{Floors: map[string]uint64{}}
	seals, err := s.planFloors(s.Context(), below)
	if err != nil {
		return res, err
	}
	if len(seals) > 0 {
		if err := s.writeFloors(seals); err != nil {
			return res, err
		}
		s.setFloors(seals)
		for _, seal := range seals {
			res.Floors[seal.Origin] = seal.Seq
		}
	}
	blobs := map[string]cid.Cid{}
	for origin, f := range s.floorSeals() { // every floor: also leftovers of an interrupted Prune
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := s.dropBelow(origin, f.Seq, &res, blobs); err != nil {
			return res, err
		}
	}
	for _, c := range blobs {
		res.Blobs = append(res.Blobs, c)
	}
	// The checkpoint read before the sync is durable with it: segments
	// below it are never replayed, whatever badger loses in a power cut.
	ckpt, err := s.loadCheckpoint()
	if err != nil {
		return res, err
	}
	if err := s.db.Sync(); err != nil {
		return res, fmt.Errorf("store: sync after prune: %w", err)
	}
	if err = s.reclaimSegments(ckpt, &res); err != nil {
		return res, err
	}
	s.erasePruned()
	return res, nil
}

// planFloors returns the new floor seal of each origin of below whose floor
// can move up.
func (s *Store) planFloors(held *crdt.Context, below map[string]uint64) ([]event.Seal, error) {
	origins := make([]string, 0, len(below))
	for o := range below {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	var out []event.Seal
	for _, o := range origins {
		target, cur := min(below[o], held.Max(o)), s.Floor(o)
		if target <= cur {
			continue
		}
		seal, err := s.findSeal(o, target, true)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case seal.Seq <= cur || seal.Seq > target:
			continue
		}
		out = append(out, seal)
	}
	return out, nil
}

// dropBelow removes origin's index runs, event_id entries, blob references
// and seals at or below floor (the floor's own seal stays, as the newest
// one may be it).
func (s *Store) dropBelow(origin string, floor uint64, res *PruneResult, blobs map[string]cid.Cid) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	var split *run
	seen := map[idMS]struct{}{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: originKey(prefixEvent, origin, 0), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			r, err := itemRun(it.Item())
			if err != nil {
				return err
			}
			if r.first > floor {
				break
			}
			events, err := s.runEvents(origin, r, floor)
			if err != nil {
				return err
			}
			if err := s.dropIDs(txn, wb, origin, events, floor, seen); err != nil {
				return err
			}
			for _, e := range events {
				if err := s.dropEventRedactionKeys(wb, e, origin, blobs); err != nil {
					return err
				}
			}
			res.Events += uint64(len(events))
			if r.last() > floor {
				split = &r // the last run at or below the floor
				break
			}
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
		}
		return s.dropSeals(txn, wb, origin, floor)
	})
	if err == nil {
		err = wb.Flush()
	}
	if err == nil && split != nil {
		err = s.cutRun(origin, *split, floor)
	}
	if err != nil {
		return fmt.Errorf("store: prune %s below %d: %w", origin, floor, err)
	}
	return nil
}

// dropSeals deletes origin's seals below floor.
func (s *Store) dropSeals(txn *badger.Txn, wb *badger.WriteBatch, origin string, floor uint64) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: originKey(prefixSeal, origin, 0)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) < 8 || decodeSealSeq(k) >= floor {
			break
		}
		if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
			return err
		}
	}
	return nil
}

func decodeSealSeq(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }

// cutRun replaces run r, which crosses floor, by its part above floor, in
// one transaction: the index never lacks an event above the floor.
func (s *Store) cutRun(origin string, r run, floor uint64) error {
	tail := r.tail(floor + 1)
	return s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(eventKey(crdt.Dot{Origin: origin, Seq: tail.first}), tail.encode()); err != nil {
			return err
		}
		return txn.Delete(eventKey(crdt.Dot{Origin: origin, Seq: r.first}))
	})
}

// tail returns the part of r from seq on (r.first < seq <= r.last()).
func (r *run) tail(seq uint64) run {
	loc := r.locate(seq)
	i := seq - r.first
	return run{first: seq, segment: r.segment, offset: loc.offset, received: r.received, lengths: slices.Clone(r.lengths[i:])}
}

// runEvents decodes the events of run r (of origin) up to seq upto.
func (s *Store) runEvents(origin string, r run, upto uint64) ([]*event.Event, error) {
	last := min(r.last(), upto)
	end := r.locate(last)
	buf, err := s.segs.readAt(r.segment, r.offset, uint32(end.offset+int64(end.length)-r.offset))
	if err != nil {
		return nil, err
	}
	out := make([]*event.Event, 0, last-r.first+1)
	pos := 0
	for i, l := range r.lengths[:last-r.first+1] {
		e := new(event.Event)
		if err := e.UnmarshalBinary(buf[pos : pos+int(l)]); err != nil {
			return nil, fmt.Errorf("store: corrupt event %s/%d: %w", origin, r.first+uint64(i), err)
		}
		out = append(out, e)
		if i+1 < len(r.lengths) {
			pos += int(l) + uvarintLen(uint64(r.lengths[i+1]))
		}
	}
	return out, nil
}
