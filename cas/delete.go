package cas

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Delete removes blob c in one transaction. For a root that is the root block,
// its size record and every chunk no other blob uses; for a raw leaf, the
// block unless a stored root links to it (then it stays, as that blob's chunk,
// and Has(c) stays true). Errors wrap ErrNotFound when nothing of c is stored,
// or ErrInvalidCID. A root block stored corrupt is still deleted; if it no
// longer decodes its chunks are left as they are (GC does not reclaim them).
func (s *Store) Delete(c cid.Cid) error {
	k, err := kindOf(c)
	if err != nil {
		return err
	}
	err = s.update(func(w *wtxn) error {
		if k == kindRaw {
			return w.deleteLeaf(c)
		}
		return w.deleteRoot(c)
	})
	if err != nil {
		return fmt.Errorf("cas: delete: %w", err)
	}
	return nil
}

func (w *wtxn) deleteLeaf(c cid.Cid) error {
	r, err := w.getRef(c)
	if err != nil {
		return err
	}
	ok, err := has(w.Txn, w.s.key(tagBlock, c))
	if err != nil {
		return err
	}
	if !ok && !r.pinned {
		return fmt.Errorf("%w: blob %s", ErrNotFound, c)
	}
	r.pinned = false
	if err := w.setRef(c, r); err != nil {
		return err
	}
	return w.release(c)
}

func (w *wtxn) deleteRoot(c cid.Cid) error {
	item, err := w.Get(w.s.key(tagBlock, c))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%w: blob %s", ErrNotFound, c)
	}
	if err != nil {
		return err
	}
	block, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	// Links are released even if the block fails its hash, as long as it
	// decodes: corruption of a link's digest then leaks only that chunk.
	if r, err := decodeRoot(block); err == nil {
		if err := w.link(r.links, -1); err != nil {
			return err
		}
	}
	if err := w.Delete(w.s.key(tagSize, c)); err != nil {
		return err
	}
	return w.dropBlock(c)
}

// gcBatch is how many blocks one GC transaction deletes.
const gcBatch = 256

// GC removes unreferenced raw blocks: chunks left behind by a Put that was
// interrupted by a crash (a Put that fails cleanly removes its own). It
// returns the bytes freed. Blocks of Puts in flight are kept, so GC may run
// at any time; it scans every block key, so run it rarely (for example at
// start-up).
func (s *Store) GC(ctx context.Context) (int64, error) {
	candidates, err := s.unreferenced(ctx)
	if err != nil {
		return 0, err
	}
	var freed int64
	for len(candidates) > 0 {
		batch := candidates[:min(gcBatch, len(candidates))]
		candidates = candidates[len(batch):]
		err := s.update(func(w *wtxn) error {
			for _, c := range batch {
				if err := w.release(c); err != nil {
					return err
				}
			}
			freed -= w.delta
			return nil
		})
		if err != nil {
			return freed, fmt.Errorf("cas: gc: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return freed, fmt.Errorf("cas: gc: %w", err)
		}
	}
	return freed, nil
}

// unreferenced lists raw blocks without a reference record.
func (s *Store) unreferenced(ctx context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	blockPrefix := append(bytes.Clone(s.prefix), tagBlock)
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = blockPrefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			c, err := cid.Cast(it.Item().Key()[len(blockPrefix):])
			if err != nil {
				continue // not a key this store wrote
			}
			if k, err := kindOf(c); err != nil || k != kindRaw {
				continue
			}
			ok, err := has(txn, s.key(tagRef, c))
			if err != nil {
				return err
			}
			if !ok {
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cas: gc: %w", err)
	}
	return out, nil
}
