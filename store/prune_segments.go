package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dgraph-io/badger/v4"
)

// reclaimSegments deletes the segment files that no index run names any
// more, below the checkpoint's segment (replay reads from there on, and
// the append target is at or after it).
func (s *Store) reclaimSegments(ckpt checkpoint, res *PruneResult) error {
	ids, err := s.segs.list()
	if err != nil {
		return err
	}
	live, err := s.liveSegments()
	if err != nil {
		return err
	}
	var drop []uint32
	for _, id := range ids {
		if id < ckpt.segment && !live[id] {
			drop = append(drop, id)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	// Readers that took their view of the index before the runs were
	// removed may still read these files: wait for them.
	s.pr.readers.synchronize()
	for _, id := range drop {
		n, err := s.segs.remove(id)
		if err != nil {
			return err
		}
		res.Segments++
		res.SegmentBytes += n
	}
	return syncDir(s.segs.dir)
}

// liveSegments returns the segments some index run points into.
func (s *Store) liveSegments() (map[uint32]bool, error) {
	live := map[uint32]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvent}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			r, err := itemRun(it.Item())
			if err != nil {
				return err
			}
			live[r.segment] = true
		}
		return nil
	})
	return live, err
}

// remove closes any handle on segment id and deletes its file, returning
// its size. A file already gone counts 0.
func (s *segments) remove(id uint32) (int64, error) {
	path := segmentPath(s.dir, id)
	s.mu.Lock()
	if f, ok := s.readers[id]; ok {
		f.Close()
		delete(s.readers, id)
	}
	kept := s.retired[:0]
	for _, f := range s.retired {
		if f.Name() == path {
			f.Close()
		} else {
			kept = append(kept, f)
		}
	}
	s.retired = kept
	s.mu.Unlock()
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: stat segment %d: %w", id, err)
	}
	if err := os.Remove(path); err != nil {
		return 0, fmt.Errorf("store: delete segment %d: %w", id, err)
	}
	return st.Size(), nil
}
