package cas

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/go-cid"
)

// Damage done to a stored raw block behind the store's back.
var (
	shorten  = func(b []byte) []byte { return bytes.Clone(b[:len(b)/2]) }
	lengthen = func(b []byte) []byte { return append(bytes.Clone(b), "trailing junk"...) }
	emptied  = func([]byte) []byte { return []byte{} }
	flipByte = func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/3] ^= 0x20; return b }
)

// TestRepairChunkCounter damages a stored raw block on disk (a full chunk of
// blob a, or blob leaf, a raw block of its own), optionally runs GC, repairs
// the block with the good bytes the way a peer fetch (PutBlock) or a local
// Put does, and checks that the byte counter equals the bytes of the blocks
// stored after the GC and after the repair, that both blobs read back, and
// that deleting both leaves nothing counted.
func TestRepairChunkCounter(t *testing.T) {
	a, leaf := pseudo(31, 2*ChunkSize+555), pseudo(32, 3000)
	tests := []struct {
		name   string
		leaf   bool                // damage leaf (else a's first chunk)
		damage func([]byte) []byte // done to the stored block
		gc     bool                // run GC after the damage
		byPut  bool                // repair with Put (else PutBlock)
	}{
		{name: "chunk shortened, GC", damage: shorten, gc: true},
		{name: "chunk lengthened, GC", damage: lengthen, gc: true},
		{name: "chunk emptied, GC", damage: emptied, gc: true},
		{name: "chunk shortened, GC, repaired by Put", damage: shorten, gc: true, byPut: true},
		{name: "chunk bit flip, GC", damage: flipByte, gc: true},
		{name: "chunk shortened, no GC", damage: shorten},
		{name: "chunk lengthened, no GC", damage: lengthen},
		{name: "leaf shortened, GC", leaf: true, damage: shorten, gc: true},
		{name: "leaf lengthened, GC", leaf: true, damage: lengthen, gc: true},
		{name: "leaf lengthened, GC, repaired by Put", leaf: true, damage: lengthen, gc: true, byPut: true},
		{name: "leaf shortened, no GC", leaf: true, damage: shorten},
		{name: "leaf bit flip, GC", leaf: true, damage: flipByte, gc: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDisk(t, t.TempDir())
			t.Cleanup(func() { db.Close() })
			s := newStore(t, db, "blob/")
			ca, cl := putBlob(t, s, a), putBlob(t, s, leaf)
			links, _ := s.Links(ca)
			target, blob := links[0], a
			if tt.leaf {
				target, blob = cl, leaf
			}
			good, err := s.GetBlock(target)
			if err != nil {
				t.Fatal(err)
			}
			corrupt(t, s, target, tt.damage(good))
			_, err = s.GetBlock(target)
			wantErr(t, err, ErrCorrupt)
			if tt.gc {
				if _, err := s.GC(context.Background()); err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, s)
			}
			if tt.byPut {
				putBlob(t, s, blob)
			} else if err := s.PutBlock(target, good); err != nil {
				t.Fatal(err)
			}

			checkInvariants(t, s)
			wantRefs(t, s, map[cid.Cid]uint64{links[0]: 1, links[1]: 1, links[2]: 1})
			if !bytes.Equal(readAll(t, s, ca), a) || !bytes.Equal(readAll(t, s, cl), leaf) {
				t.Fatal("a repaired blob reads back differently")
			}
			mustDelete(t, s, ca)
			mustDelete(t, s, cl)
			if n := storedBytes(t, s); n != 0 {
				t.Fatalf("Bytes() = %d after deleting both blobs", n)
			}
			checkInvariants(t, s)
		})
	}
}
