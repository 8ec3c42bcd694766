package cas

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// fetchBlob makes blob c whole in dst from src the way a peer fetch does
// (gossip's FetchBlob): ask dst.Missing, copy each block with GetBlock and
// PutBlock, repeat until nothing is missing.
func fetchBlob(t *testing.T, dst, src *Store, c cid.Cid) {
	t.Helper()
	for round := 0; ; round++ {
		missing, err := dst.Missing(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) == 0 {
			return
		}
		if round == 3 {
			t.Fatalf("still missing %d blocks of %s after 3 rounds", len(missing), c)
		}
		copyBlocks(t, dst, src, missing)
	}
}

// copyBlocks stores in dst each of blocks, read from src with GetBlock, as
// a peer fetch does.
func copyBlocks(t *testing.T, dst, src *Store, blocks []cid.Cid) {
	t.Helper()
	for _, m := range blocks {
		block, err := src.GetBlock(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.PutBlock(m, block); err != nil {
			t.Fatal(err)
		}
	}
}

// wantRefs checks the reference record of each chunk c: roots linking it and
// not a blob of its own.
func wantRefs(t *testing.T, s *Store, want map[cid.Cid]uint64) {
	t.Helper()
	for c, n := range want {
		var r ref
		err := s.db.View(func(txn *badger.Txn) (err error) {
			r, err = s.getRef(txn, c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if r != (ref{roots: n}) {
			t.Errorf("chunk %s: %+v, want %d roots and not pinned", c, r, n)
		}
	}
}

// truncateRoot damages a root block so that it no longer decodes.
func truncateRoot(b []byte) []byte { return b[:len(b)-1] }

// flipLink damages a root block so that it still decodes, but the digest of
// its last link, and so its hash, changes.
func flipLink(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 1
	return b
}

// TestRepairRootCounts damages the stored root block of blob a (two full
// chunks and a tail; b shares its first chunk), optionally runs GC, repairs
// the root the way a peer fetch or a local Put would, and checks the
// reference counts: each chunk counted once per root linking it, none turned
// into a blob of its own, a reading back byte for byte, b deletable without taking a chunk
// a needs, and nothing left once both are deleted.
func TestRepairRootCounts(t *testing.T) {
	a := pseudo(21, 2*ChunkSize+333)
	b := slices.Concat(a[:ChunkSize], pseudo(22, 4444))
	tests := []struct {
		name       string
		damage     func([]byte) []byte // done to the stored root behind the store's back; nil: none
		gc         bool                // run GC after the damage
		shareFirst bool                // store b before the damage (else after it)
		byPut      bool                // repair with Put (else a peer fetch: PutBlock)
		disk       bool                // badger on disk (else in memory)
	}{
		{name: "undecodable, GC, chunks gone", damage: truncateRoot, gc: true},
		{name: "undecodable, GC, chunks gone, on disk", damage: truncateRoot, gc: true, disk: true},
		{name: "undecodable, GC, shared chunk kept", damage: truncateRoot, gc: true, shareFirst: true},
		{name: "undecodable, GC, repaired by Put", damage: truncateRoot, gc: true, byPut: true},
		{name: "undecodable, no GC, chunks present", damage: truncateRoot, shareFirst: true},
		{name: "undecodable, no GC, repaired by Put", damage: truncateRoot, byPut: true},
		{name: "wrong CID, GC, chunks gone", damage: flipLink, gc: true},
		{name: "wrong CID, GC, shared chunk kept", damage: flipLink, gc: true, shareFirst: true},
		{name: "wrong CID, no GC, chunks present", damage: flipLink, shareFirst: true},
		{name: "root fine, PutBlock again", shareFirst: true},
		{name: "root fine, GC, Put again", gc: true, byPut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openMem(t)
			if tt.disk {
				db = openDisk(t, t.TempDir())
				t.Cleanup(func() { db.Close() })
			}
			s, src := newStore(t, db, "dst/"), newStore(t, db, "src/")
			ca := putBlob(t, src, a)
			putBlob(t, s, a)
			links, _ := s.Links(ca)
			var cb cid.Cid
			if tt.shareFirst {
				cb = putBlob(t, s, b)
			}
			if tt.damage != nil {
				good, _ := s.GetBlock(ca)
				corrupt(t, s, ca, tt.damage(good))
				if _, err := s.GetBlock(ca); err == nil {
					t.Fatal("damaged root still verifies")
				}
			}
			if tt.gc {
				if _, err := s.GC(context.Background()); err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, s)
				if tt.shareFirst && !bytes.Equal(readAll(t, s, cb), b) {
					t.Fatal("GC took a chunk from a valid root")
				}
			}
			if tt.gc && tt.damage != nil {
				_, err := s.GetBlock(ca)
				wantErr(t, err, ErrNotFound) // GC removed the corrupt root
				_, err = s.Stat(ca)
				wantErr(t, err, ErrNotFound)
			}
			if !tt.shareFirst {
				cb = putBlob(t, s, b)
			}
			if tt.byPut {
				putBlob(t, s, a)
			} else {
				root, _ := src.GetBlock(ca)
				if err := s.PutBlock(ca, root); err != nil { // the peer's copy, even if ours is fine
					t.Fatal(err)
				}
				fetchBlob(t, s, src, ca)
			}

			checkInvariants(t, s)
			wantRefs(t, s, map[cid.Cid]uint64{links[0]: 2, links[1]: 1, links[2]: 1})
			if !bytes.Equal(readAll(t, s, ca), a) {
				t.Fatal("repaired blob differs")
			}
			if n, err := s.Stat(ca); n != int64(len(a)) || err != nil {
				t.Fatalf("Stat = %d, %v", n, err)
			}
			mustDelete(t, s, cb)
			checkInvariants(t, s)
			if !bytes.Equal(readAll(t, s, ca), a) {
				t.Fatal("deleting a blob sharing a chunk damaged the repaired blob")
			}
			mustDelete(t, s, ca)
			if n := storedBytes(t, s); n != 0 {
				t.Fatalf("Bytes() = %d after deleting both blobs", n)
			}
			checkInvariants(t, s)
		})
	}
}
