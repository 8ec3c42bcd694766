package cas

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// GetBlock returns a copy of one stored block (a raw chunk or leaf, or a root
// block) after checking it against c. Errors wrap ErrNotFound, ErrCorrupt or
// ErrInvalidCID.
func (s *Store) GetBlock(c cid.Cid) ([]byte, error) {
	if _, err := kindOf(c); err != nil {
		return nil, err
	}
	var data []byte
	err := s.db.View(func(txn *badger.Txn) (err error) {
		data, err = s.readBlock(txn, c, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Links returns the chunks of root c in order, or nil for a raw leaf (stored
// or not). The root block is verified. Errors wrap ErrNotFound (root not
// stored), ErrCorrupt or ErrInvalidCID.
func (s *Store) Links(c cid.Cid) ([]cid.Cid, error) {
	k, err := kindOf(c)
	if err != nil || k == kindRaw {
		return nil, err
	}
	var r root
	err = s.db.View(func(txn *badger.Txn) (err error) {
		r, err = s.readRoot(txn, c)
		return err
	})
	return r.links, err
}

// Missing returns the blocks of blob c that are not stored here intact, in
// the order to fetch them: c itself if it is absent or its stored copy fails
// its hash (so that fetching it repairs it), else the distinct chunks of root
// c that are absent or fail their hash. It returns nil when the whole blob is
// present and intact. The root block is verified on every call; a raw block
// is hashed the first time Missing meets it and again only once a read
// found it corrupt or the Store's memory of intact blocks was cleared (see
// the package comment, Verification).
func (s *Store) Missing(c cid.Cid) ([]cid.Cid, error) {
	k, err := kindOf(c)
	if err != nil {
		return nil, err
	}
	var missing []cid.Cid
	err = s.db.View(func(txn *badger.Txn) error {
		if k == kindRaw {
			missing, err = s.absent(txn, []cid.Cid{c}, s.intact())
			return err
		}
		r, err := s.readRoot(txn, c)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			missing = []cid.Cid{c}
			return nil
		}
		if err != nil {
			return err
		}
		missing, err = s.absent(txn, r.links, s.intact())
		return err
	})
	return missing, err
}

// absent returns the distinct links for which stored reports false.
func (s *Store) absent(txn *badger.Txn, links []cid.Cid, stored func(*badger.Txn, cid.Cid) (bool, error)) ([]cid.Cid, error) {
	var out []cid.Cid
	seen := make(map[string]bool)
	for _, l := range links {
		if seen[l.KeyString()] {
			continue
		}
		seen[l.KeyString()] = true
		ok, err := stored(txn, l)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// intact returns a check that a raw block is stored and hashes to its CID;
// a block this Store has seen intact is only looked up, any other is read
// and hashed (into a buffer the check reuses).
func (s *Store) intact() func(*badger.Txn, cid.Cid) (bool, error) {
	var buf []byte
	return func(txn *badger.Txn, c cid.Cid) (bool, error) {
		if s.sound.has(c) {
			return s.hasBlock(txn, c)
		}
		data, err := s.readBlock(txn, c, buf)
		if data != nil {
			buf = data[:0]
		}
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			return false, nil
		}
		return err == nil, err
	}
}

// Has reports whether the whole blob c is stored intact: the raw leaf, or
// the root and every chunk. It is Missing(c) being empty, so a block that
// fails its hash counts as absent, checked as Missing checks it.
func (s *Store) Has(c cid.Cid) (bool, error) {
	missing, err := s.Missing(c)
	return err == nil && len(missing) == 0, err
}

// Stat returns the size of blob c: the length of a raw leaf or the size
// recorded with a root, in O(1). For a root it does not require the chunks to
// be present (use Has). Errors wrap ErrNotFound or ErrInvalidCID.
func (s *Store) Stat(c cid.Cid) (int64, error) {
	k, err := kindOf(c)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.View(func(txn *badger.Txn) error {
		n, err = s.stat(txn, c, k)
		return err
	})
	return n, err
}

func (s *Store) stat(txn *badger.Txn, c cid.Cid, k kind) (int64, error) {
	if k == kindRaw {
		n, segs, err := s.blockLen(txn, c)
		if err == nil && segs == 0 {
			err = fmt.Errorf("%w: blob %s", ErrNotFound, c)
		}
		return int64(n), err
	}
	item, err := txn.Get(s.key(tagSize, c))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, fmt.Errorf("%w: blob %s", ErrNotFound, c)
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: size record of %s", ErrCorrupt, c)
		}
		n = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return n, err
}
