package store

import (
	"errors"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"
)

// replay re-applies the records after the checkpoint, cuts a torn tail and
// positions the writer at the end of the log.
func (s *Store) replay() error {
	ckpt, err := s.loadCheckpoint()
	if err != nil {
		return err
	}
	ids, err := s.segs.list()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return s.segs.create(1)
	}
	tb := s.c.newTxn()
	replayed := 0
	for i, id := range ids {
		if id < ckpt.segment {
			continue
		}
		from := int64(0)
		if id == ckpt.segment {
			from = ckpt.offset
		}
		end, torn, err := s.segs.scan(id, from, func(off int64, payload []byte) error {
			rec, err := parseRecord(payload)
			if err != nil {
				return fmt.Errorf("store: segment %d at %d: %w", id, off, err)
			}
			for j, e := range rec.events {
				loc := location{segment: id, offset: off + int64(rec.offsets[j]), length: uint32(rec.lengths[j])}
				if err := tb.addEvent(e, loc, number{}); err != nil {
					return err
				}
			}
			tb.seals = append(tb.seals, rec.seals...)
			tb.ckpt = &checkpoint{id, off + int64(len(payload))}
			replayed += len(rec.events)
			return nil
		})
		if err != nil {
			tb.txn.Discard()
			return err
		}
		if torn || i == len(ids)-1 {
			if torn {
				s.log.Warn("cut torn log tail (never acknowledged)", "segment", id, "offset", end)
				if err := s.dropSegments(ids[i+1:]); err != nil {
					return err
				}
			}
			if err := s.segs.resume(id, end, torn); err != nil {
				return err
			}
			break
		}
	}
	if err := tb.commit(); err != nil {
		return err
	}
	s.ctx = s.c.ctx.Clone()
	s.red.publish(s.c.takeRedactions())
	if replayed > 0 {
		s.log.Info("replayed log tail", "events", replayed)
	}
	return nil
}

func (s *Store) loadCheckpoint() (checkpoint, error) {
	var ckpt checkpoint
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyCheckpoint)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			ckpt, err = decodeCheckpoint(v)
			return err
		})
	})
	if err != nil {
		return ckpt, fmt.Errorf("store: read checkpoint: %w", err)
	}
	return ckpt, nil
}

// dropSegments removes segments after a torn record: nothing in them was
// acknowledged, since acks follow the fdatasync of every earlier record.
func (s *Store) dropSegments(ids []uint32) error {
	for _, id := range ids {
		if err := os.Remove(segmentPath(s.segs.dir, id)); err != nil {
			return fmt.Errorf("store: drop segment after torn tail: %w", err)
		}
	}
	if len(ids) > 0 {
		return syncDir(s.segs.dir)
	}
	return nil
}
