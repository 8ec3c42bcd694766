package cas

import (
	"fmt"

	"github.com/ipfs/go-cid"
)

// Delete removes blob c. For a root: the root block and its size record in
// one transaction (the blob is gone at once), then every chunk no other blob
// uses, in batches. For a raw leaf: the block, unless a stored root links to
// it (then it stays, as that blob's chunk, and Has(c) stays true). Errors wrap
// ErrNotFound when nothing of c is stored (GC removes a corrupt root block),
// or ErrInvalidCID. A root block stored corrupt is still deleted; if it no
// longer decodes, its chunks stay until GC reclaims them.
func (s *Store) Delete(c cid.Cid) error {
	k, err := kindOf(c)
	if err != nil {
		return err
	}
	if k == kindRaw {
		err = s.update(func(w *wtxn) error { return w.deleteLeaf(c) })
	} else {
		err = s.deleteRoot(c)
	}
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

func (s *Store) deleteRoot(c cid.Cid) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var links []cid.Cid
	err := s.updateLocked(func(w *wtxn) error {
		block, segs, err := s.loadBlock(w.Txn, c, nil)
		if err != nil {
			return err
		}
		if segs == 0 {
			return fmt.Errorf("%w: blob %s", ErrNotFound, c)
		}
		// Links are released even if the block fails its hash, as long as
		// it decodes: a corrupt link digest then leaks only that chunk.
		if r, err := decodeRoot(block); err == nil {
			links = r.links
		}
		if err := w.Delete(s.key(tagSize, c)); err != nil {
			return err
		}
		return w.dropBlock(c)
	})
	if err != nil {
		return err
	}
	return s.linkLocked(links, -1)
}
