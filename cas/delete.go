package cas

import (
	"fmt"

	"github.com/ipfs/go-cid"
)

// Delete removes blob c in one transaction. For a root that is the root block,
// its size record and every chunk no other blob uses; for a raw leaf, the
// block unless a stored root links to it (then it stays, as that blob's chunk,
// and Has(c) stays true). Errors wrap ErrNotFound when nothing of c is stored,
// or ErrInvalidCID. A root block stored corrupt is still deleted; if it no
// longer decodes, its chunks stay until GC reclaims them.
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
	ok, err := w.s.hasBlock(w.Txn, c)
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
	block, segs, err := w.s.loadBlock(w.Txn, c, nil)
	if err != nil {
		return err
	}
	if segs == 0 {
		return fmt.Errorf("%w: blob %s", ErrNotFound, c)
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
