package cas

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// memSegment is the largest value the store writes to an in-memory badger
// DB. badger v4.9.6 in memory mode fails on values over its ValueThreshold
// (1 MiB by default) and crashes on a value of exactly that size, so there a
// block is stored as pieces under P 'b' <cid> and P 'b' <cid> <i>, i = 1, 2, ….
// On disk a block is always one value.
const memSegment = 256 << 10

// segKey returns the key of piece i of block c.
func (s *Store) segKey(c cid.Cid, i int) []byte {
	k := s.key(tagBlock, c)
	if i > 0 {
		k = append(k, byte(i))
	}
	return k
}

// scanBlock calls fn with each stored piece of block c in order and returns
// the number of pieces (0 if the block is absent).
func (s *Store) scanBlock(txn *badger.Txn, c cid.Cid, fn func(v []byte)) (int, error) {
	for i := 0; ; i++ {
		item, err := txn.Get(s.segKey(c, i))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return i, nil
		}
		if err != nil {
			return i, err
		}
		if err := item.Value(func(v []byte) error { fn(v); return nil }); err != nil {
			return i, err
		}
		if !s.split || i >= 255 {
			return i + 1, nil
		}
	}
}

// loadBlock appends the stored bytes of block c to dst[:0]; segs is 0 when
// the block is absent.
func (s *Store) loadBlock(txn *badger.Txn, c cid.Cid, dst []byte) (data []byte, segs int, err error) {
	dst = dst[:0]
	segs, err = s.scanBlock(txn, c, func(v []byte) { dst = append(dst, v...) })
	return dst, segs, err
}

// blockLen returns the stored length of block c; segs is 0 when it is absent.
func (s *Store) blockLen(txn *badger.Txn, c cid.Cid) (n, segs int, err error) {
	segs, err = s.scanBlock(txn, c, func(v []byte) { n += len(v) })
	return n, segs, err
}

// readBlock returns the verified bytes of block c, appended to dst[:0].
func (s *Store) readBlock(txn *badger.Txn, c cid.Cid, dst []byte) ([]byte, error) {
	data, segs, err := s.loadBlock(txn, c, dst)
	if err != nil {
		return nil, err
	}
	if segs == 0 {
		return nil, fmt.Errorf("%w: block %s", ErrNotFound, c)
	}
	err = verify(c, data)
	s.sound.note(c, err)
	return data, err
}

// writeBlock stores data as block c, replacing an old copy of oldSegs pieces.
// data must stay unchanged until the transaction commits.
func (s *Store) writeBlock(txn *badger.Txn, c cid.Cid, data []byte, oldSegs int) error {
	step := len(data) + 1
	if s.split {
		step = memSegment
	}
	segs := 0
	for off := 0; off == 0 || off < len(data); off += step {
		if err := txn.Set(s.segKey(c, segs), data[off:min(off+step, len(data))]); err != nil {
			return err
		}
		segs++
	}
	for i := segs; i < oldSegs; i++ {
		if err := txn.Delete(s.segKey(c, i)); err != nil {
			return err
		}
	}
	return nil
}

// putBlock stores data under c unless the identical bytes are already there;
// differing stored bytes (a corrupt copy) are overwritten. It reports whether
// the block was absent.
func (w *wtxn) putBlock(c cid.Cid, data []byte) (added bool, err error) {
	old, segs, err := w.s.loadBlock(w.Txn, c, nil)
	if err != nil || (segs > 0 && bytes.Equal(old, data)) {
		return false, err
	}
	if segs == 0 {
		w.delta += int64(len(data))
	} // else a repair: the counter still holds the length the store wrote,
	// len(data), as the copy went corrupt after it was counted: GC, which
	// counts stored lengths, removes raw and root blocks that fail their hash
	return segs == 0, w.s.writeBlock(w.Txn, c, data, segs)
}

// dropBlock deletes block c if present.
func (w *wtxn) dropBlock(c cid.Cid) error {
	n, segs, err := w.s.blockLen(w.Txn, c)
	if err != nil {
		return err
	}
	w.delta -= int64(n)
	w.s.sound.note(c, ErrNotFound) // forgotten now: a commit can only make it absent
	for i := range segs {
		if err := w.Delete(w.s.segKey(c, i)); err != nil {
			return err
		}
	}
	return nil
}

// hasBlock reports whether block c is stored.
func (s *Store) hasBlock(txn *badger.Txn, c cid.Cid) (bool, error) {
	return exists(txn, s.segKey(c, 0))
}

// exists reports whether key k is present.
func exists(txn *badger.Txn, k []byte) (bool, error) {
	_, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}
