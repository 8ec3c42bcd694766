package cas

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// fataler is the part of testing.TB that *rapid.T also has.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// openMem opens an in-memory badger DB closed at the end of the test.
func openMem(tb testing.TB) *badger.DB {
	tb.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// openDisk opens a badger DB in dir; the caller closes it.
func openDisk(tb testing.TB, dir string) *badger.DB {
	tb.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func newStore(tb testing.TB, db *badger.DB, prefix string) *Store {
	tb.Helper()
	s, err := New(db, []byte(prefix))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// memStore returns a Store on a fresh in-memory DB.
func memStore(tb testing.TB) *Store { return newStore(tb, openMem(tb), "blob/") }

// pseudo returns n deterministic pseudo-random bytes for seed.
func pseudo(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

func putBlob(tb fataler, s *Store, data []byte) cid.Cid {
	tb.Helper()
	c, n, err := s.Put(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		tb.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	if n != int64(len(data)) {
		tb.Fatalf("Put(%d bytes) reported %d", len(data), n)
	}
	return c
}

func readAll(tb fataler, s *Store, c cid.Cid) []byte {
	tb.Helper()
	rc, n, err := s.Open(context.Background(), c)
	if err != nil {
		tb.Fatalf("Open(%s): %v", c, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("read %s: %v", c, err)
	}
	if int64(len(data)) != n {
		tb.Fatalf("Open(%s) said %d bytes, read %d", c, n, len(data))
	}
	return data
}

func storedBytes(tb fataler, s *Store) int64 {
	tb.Helper()
	n, err := s.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func wantErr(tb fataler, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error %v, want %v", err, target)
	}
}

// checkInvariants recomputes from the raw keys what the store maintains
// incrementally: the byte counter, the reference records, and the absence of
// unreferenced raw blocks.
func checkInvariants(tb testing.TB, s *Store) {
	tb.Helper()
	var total int64
	blocks := map[string]bool{}
	roots := map[string]uint64{}
	refs := map[string]ref{}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = s.prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)[len(s.prefix):]
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			c, _ := cid.Cast(k[1:])
			switch k[0] {
			case tagBlock:
				total += int64(len(v))
				if len(k) != 1+cidLen {
					continue // a piece of a split block
				}
				blocks[c.KeyString()] = true
				if kd, _ := kindOf(c); kd == kindRoot {
					r, err := s.Links(c)
					if err != nil {
						tb.Errorf("root %s: %v", c, err)
						continue
					}
					seen := map[string]bool{}
					for _, l := range r {
						if !seen[l.KeyString()] {
							seen[l.KeyString()] = true
							roots[l.KeyString()]++
						}
					}
				}
			case tagRef:
				r, ok := decodeRef(v)
				if !ok {
					tb.Errorf("bad ref record %x for %s", v, c)
				}
				refs[c.KeyString()] = r
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if got := storedBytes(tb, s); got != total {
		tb.Errorf("Bytes() = %d, blocks hold %d", got, total)
	}
	for k, n := range roots {
		if refs[k].roots != n {
			tb.Errorf("chunk %x: ref record counts %d roots, %d link it", k, refs[k].roots, n)
		}
	}
	for k, r := range refs {
		if r.roots != roots[k] {
			tb.Errorf("chunk %x: ref record counts %d roots, %d link it", k, r.roots, roots[k])
		}
	}
	for k := range blocks {
		c, _ := cid.Cast([]byte(k))
		if kd, _ := kindOf(c); kd == kindRaw && !refs[k].used() {
			tb.Errorf("unreferenced raw block %s", c)
		}
	}
}

// corrupt overwrites the stored block c with data, bypassing the store.
func corrupt(tb testing.TB, s *Store, c cid.Cid, data []byte) {
	tb.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		_, segs, err := s.blockLen(txn, c)
		if err != nil {
			return err
		}
		return s.writeBlock(txn, c, data, segs)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
