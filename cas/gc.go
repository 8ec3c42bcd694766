package cas

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// gcBatch is how many keys one GC transaction writes.
const gcBatch = linkBatch

// GC rebuilds the store's bookkeeping from its blocks (mark and sweep): it
// recounts the roots linking each chunk, removes raw blocks that are neither
// blobs of their own nor linked from a root (chunks of a Put interrupted by a
// crash, chunks of a corrupt root that was deleted), and recomputes the byte
// counter. A root block that fails its hash (or does not decode) is removed
// too, with its size record: its links cannot be known, so GC counts none,
// and a root left stored with uncounted links would break what putRoot and
// Delete rely on (see marks.block). Missing lists such a root either way; a
// peer fetch or a Put stores it anew and links its chunks. A raw block that
// fails its hash is removed as well, its reference record kept: the counter
// GC writes then holds only intact blocks, at the lengths the store wrote,
// which is what a repair by PutBlock or Put relies on (see putBlock); Missing
// lists the block as absent and a fetch or a Put stores it anew. GC returns
// the bytes of the blocks removed. Intact chunks of Puts in flight are kept.
// GC holds the store's write lock throughout and reads and hashes every
// block, so run it rarely, for example at start-up.
func (s *Store) GC(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.mark(ctx)
	if err != nil {
		return 0, fmt.Errorf("cas: gc: %w", err)
	}
	freed, err := s.sweep(m)
	if err != nil {
		return freed, fmt.Errorf("cas: gc: %w", err)
	}
	return freed, nil
}

// marks is what GC learns from one consistent scan.
type marks struct {
	total int64             // bytes of all stored blocks
	raw   map[string]int    // raw block that verifies → stored length
	bad   map[string]int    // block failing its hash (or root not decoding) → stored length
	links map[string]uint64 // raw CID → roots linking it
	refs  map[string]ref    // stored reference records
}

func (s *Store) mark(ctx context.Context) (*marks, error) {
	m := &marks{raw: map[string]int{}, bad: map[string]int{}, links: map[string]uint64{}, refs: map[string]ref{}}
	err := s.db.View(func(txn *badger.Txn) error {
		if err := s.scanKeys(ctx, txn, tagBlock, func(c cid.Cid, k kind) error {
			return m.block(s, txn, c, k)
		}); err != nil {
			return err
		}
		return s.scanKeys(ctx, txn, tagRef, func(c cid.Cid, _ kind) error {
			r, err := s.getRef(txn, c)
			m.refs[c.KeyString()] = r
			return err
		})
	})
	return m, err
}

// block records one stored block.
func (m *marks) block(s *Store, txn *badger.Txn, c cid.Cid, k kind) error {
	data, _, err := s.loadBlock(txn, c, nil)
	if err != nil {
		return err
	}
	m.total += int64(len(data))
	if k == kindRaw {
		// A raw block that fails its hash is removed like a corrupt root
		// (its reference record stays, so Missing lists it and a fetch
		// stores it anew): left stored, it would be counted at the length
		// of its corrupt copy, while its repair (putBlock) relies on the
		// counter holding the length the store wrote.
		err := verify(c, data)
		s.sound.note(c, err)
		if err != nil {
			m.bad[c.KeyString()] = len(data)
		} else {
			m.raw[c.KeyString()] = len(data)
		}
		return nil
	}
	// Only a root that verifies is counted; sweep removes any other. The
	// links of a corrupt root are unknown (it does not decode) or untrusted
	// (it decodes but fails its hash), so GC counts none, and therefore must
	// not leave it stored: the rest of the store holds that a stored root's
	// chunks are counted (a disk fault corrupts the block, not the counts),
	// so putRoot repairs a stored root without linking again and Delete
	// releases what it decodes to. A corrupt root kept with its chunks
	// uncounted was repaired with none counted: chunks fetched again became
	// blobs of their own, and deleting another blob could remove a chunk the
	// repaired root needed. Once removed, its repair is a fresh store that
	// links each chunk once. No chunk a valid root needs is ever removed:
	// every root that verifies has all its links counted here.
	r, err := decodeRoot(data)
	if err != nil || verify(c, data) != nil {
		m.bad[c.KeyString()] = len(data)
		return nil
	}
	seen := map[string]bool{}
	for _, l := range r.links {
		if !seen[l.KeyString()] {
			seen[l.KeyString()] = true
			m.links[l.KeyString()]++
		}
	}
	return nil
}

// scanKeys calls fn for each CID stored under tag, skipping the later pieces
// of split blocks.
func (s *Store) scanKeys(ctx context.Context, txn *badger.Txn, tag byte, fn func(cid.Cid, kind) error) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = append(bytes.Clone(s.prefix), tag)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := it.Item().Key()[len(opts.Prefix):]
		if len(key) != cidLen {
			continue
		}
		c, err := cid.Cast(key)
		if err != nil {
			continue
		}
		k, err := kindOf(c)
		if err != nil {
			continue
		}
		if err := fn(c, k); err != nil {
			return err
		}
	}
	return nil
}

// sweep writes the corrections found by mark.
func (s *Store) sweep(m *marks) (int64, error) {
	var freed int64
	var ops []func(w *wtxn) error
	// Corrupt blocks go first: a crash after them but before the counts
	// are lowered leaves counts too high, never a stored root whose chunks
	// were uncounted and removed.
	for key, n := range m.bad {
		c := cid.MustParse([]byte(key))
		freed += int64(n)
		ops = append(ops, func(w *wtxn) error {
			if k, _ := kindOf(c); k == kindRoot {
				if err := w.Delete(s.key(tagSize, c)); err != nil {
					return err
				}
			}
			return w.dropBlock(c)
		})
	}
	for key, n := range m.raw {
		c := cid.MustParse([]byte(key))
		r := ref{pinned: m.refs[key].pinned, roots: m.links[key]}
		if !r.used() && s.pending[key] == 0 {
			freed += int64(n)
			ops = append(ops, func(w *wtxn) error { return w.dropBlock(c) })
		}
	}
	for key, roots := range m.links {
		if r := m.refs[key]; r.roots != roots {
			c, r := cid.MustParse([]byte(key)), ref{pinned: r.pinned, roots: roots}
			ops = append(ops, func(w *wtxn) error { return w.setRef(c, r) })
		}
	}
	for key, r := range m.refs {
		if _, linked := m.links[key]; !linked && r.roots > 0 {
			c, r := cid.MustParse([]byte(key)), ref{pinned: r.pinned}
			ops = append(ops, func(w *wtxn) error { return w.setRef(c, r) })
		}
	}
	total := m.total - freed
	ops = append(ops, func(w *wtxn) error {
		w.delta = 0
		return w.Set(s.bytesKey(), binary.BigEndian.AppendUint64(nil, uint64(total)))
	})
	for len(ops) > 0 {
		batch := ops[:min(gcBatch, len(ops))]
		ops = ops[len(batch):]
		err := s.updateLocked(func(w *wtxn) error {
			for _, op := range batch {
				if err := op(w); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return freed, nil
}
