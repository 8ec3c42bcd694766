package cas

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// ref is the reference record of a raw block.
type ref struct {
	pinned bool   // stored as a blob of its own (Put or PutBlock of a raw leaf)
	roots  uint64 // stored roots that link to it (each root counts once)
}

func (r ref) used() bool { return r.pinned || r.roots > 0 }

// getRef returns the reference record of raw block c (zero if none).
func (s *Store) getRef(txn *badger.Txn, c cid.Cid) (ref, error) {
	item, err := txn.Get(s.key(tagRef, c))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ref{}, nil
	}
	if err != nil {
		return ref{}, err
	}
	var r ref
	err = item.Value(func(v []byte) error {
		var ok bool
		if r, ok = decodeRef(v); !ok {
			return fmt.Errorf("%w: reference record of %s", ErrCorrupt, c)
		}
		return nil
	})
	return r, err
}

// encode returns the stored form of r: a flag byte and a uvarint root count.
func (r ref) encode() []byte {
	v := []byte{0}
	if r.pinned {
		v[0] = 1
	}
	return binary.AppendUvarint(v, r.roots)
}

// decodeRef parses the stored form of a reference record, accepting only the
// canonical encoding of a used record.
func decodeRef(v []byte) (ref, bool) {
	if len(v) < 2 || v[0] > 1 {
		return ref{}, false
	}
	n, k := binary.Uvarint(v[1:])
	r := ref{pinned: v[0] == 1, roots: n}
	if k != len(v)-1 || !r.used() || len(binary.AppendUvarint(nil, n)) != k {
		return ref{}, false
	}
	return r, true
}

func (w *wtxn) getRef(c cid.Cid) (ref, error) { return w.s.getRef(w.Txn, c) }

// setRef stores r for raw block c, deleting the record when r is unused.
func (w *wtxn) setRef(c cid.Cid, r ref) error {
	k := w.s.key(tagRef, c)
	if !r.used() {
		return w.Delete(k)
	}
	return w.Set(k, r.encode())
}

// release removes raw block c if nothing uses it: no reference record and no
// in-flight Put. The caller holds s.mu.
func (w *wtxn) release(c cid.Cid) error {
	r, err := w.getRef(c)
	if err != nil || r.used() || w.s.pending[c.KeyString()] > 0 {
		return err
	}
	return w.dropBlock(c)
}

// releaseLocked removes those of links (distinct raw CIDs) that nothing
// uses, linkBatch per transaction. The caller holds s.mu.
func (s *Store) releaseLocked(links []cid.Cid) error {
	for len(links) > 0 {
		batch := links[:min(linkBatch, len(links))]
		links = links[len(batch):]
		err := s.updateLocked(func(w *wtxn) error {
			for _, l := range batch {
				if err := w.release(l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// pin marks raw block c, which the caller has stored, as a blob of its own.
func (w *wtxn) pin(c cid.Cid) error {
	r, err := w.getRef(c)
	if err != nil || r.pinned {
		return err
	}
	r.pinned = true
	return w.setRef(c, r)
}

// linkBatch bounds the links one transaction updates, so that a root of
// MaxLinks chunks stays within badger's transaction limits even with a small
// memtable (the node's minimum is 1 MiB: about 1,600 entries per transaction).
const linkBatch = 256

// distinct returns links without repeats, in order.
func distinct(links []cid.Cid) []cid.Cid {
	seen := make(map[string]bool, len(links))
	out := make([]cid.Cid, 0, len(links))
	for _, l := range links {
		if !seen[l.KeyString()] {
			seen[l.KeyString()] = true
			out = append(out, l)
		}
	}
	return out
}

// linkLocked adds delta (+1 or -1) to the root count of every distinct link
// of a root, linkBatch links per transaction; links that drop to no use are
// removed. The caller holds s.mu. If it fails or the process dies part way,
// some counts are off until GC recounts them (a count too high only delays
// freeing a chunk).
func (s *Store) linkLocked(links []cid.Cid, delta int) error {
	links = distinct(links)
	for len(links) > 0 {
		batch := links[:min(linkBatch, len(links))]
		links = links[len(batch):]
		if err := s.updateLocked(func(w *wtxn) error { return w.link(batch, delta) }); err != nil {
			return err
		}
	}
	return nil
}

// link adds delta to the root count of each of links, which are distinct.
func (w *wtxn) link(links []cid.Cid, delta int) error {
	for _, l := range links {
		r, err := w.getRef(l)
		if err != nil {
			return err
		}
		switch {
		case delta > 0:
			r.roots++
		case r.roots > 0:
			r.roots--
		}
		if err := w.setRef(l, r); err != nil {
			return err
		}
		if !r.used() {
			if err := w.release(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// putRoot stores a verified root block. The references to its chunks are
// written first, the root block and its size last, so a root is never visible
// before its chunks are protected. A root already stored is only repaired if
// its stored copy differs, and its chunks are not linked again: a stored root
// has its chunks counted even when its copy went corrupt on disk (that does
// not change the counts), and GC removes a corrupt root rather than leave it
// stored uncounted (see marks.block). So whether the stored copy is intact,
// undecodable or fails its hash, each chunk ends up counted once.
func (s *Store) putRoot(c cid.Cid, block []byte, r root) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var present bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		present, err = s.hasBlock(txn, c)
		return err
	})
	if err == nil && !present {
		err = s.linkLocked(r.links, +1)
	}
	if err != nil {
		return err
	}
	return s.updateLocked(func(w *wtxn) error {
		if _, err := w.putBlock(c, block); err != nil || present {
			return err
		}
		return w.Set(w.s.key(tagSize, c), binary.BigEndian.AppendUint64(nil, uint64(r.size)))
	})
}
