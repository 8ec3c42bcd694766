package cas

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestMissingCorruptChunk damages a stored raw block on disk (a chunk of
// blob a, which holds chunk x twice, or blob leaf, a raw block of its own)
// and checks that Missing lists it, once, that Has is false, and that a peer
// fetch driven by Missing repairs it: the blobs read back and the byte
// counter matches the peer's. When the block was verified by Missing before
// the damage, the damage must first be seen by a read (Open, GetBlock) or
// the store opened anew.
func TestMissingCorruptChunk(t *testing.T) {
	x := pseudo(41, ChunkSize)
	a := slices.Concat(x, pseudo(42, ChunkSize), x, pseudo(43, 333))
	leaf := pseudo(44, 2500)
	const (
		fresh   = ""         // damaged before any Missing looked at it
		open    = "Open"     // verified by Missing, damaged, then read by Open
		get     = "GetBlock" // verified by Missing, damaged, then read by GetBlock
		reopen  = "reopen"   // verified by Missing, damaged, then a new Store on the DB
		afterGC = "GC"       // damaged, then GC
	)
	tests := []struct {
		name   string
		target int // index of the damaged link of a; -1: leaf
		damage func([]byte) []byte
		seen   string
	}{
		{name: "chunk bit flip", target: 1, damage: flipByte},
		{name: "chunk shortened", target: 1, damage: shorten},
		{name: "chunk emptied", target: 1, damage: emptied},
		{name: "repeated chunk bit flip", target: 0, damage: flipByte},
		{name: "tail chunk lengthened", target: 3, damage: lengthen},
		{name: "leaf bit flip", target: -1, damage: flipByte},
		{name: "leaf shortened", target: -1, damage: shorten},
		{name: "chunk bit flip after Missing, read by Open", target: 1, damage: flipByte, seen: open},
		{name: "chunk bit flip after Missing, read by GetBlock", target: 1, damage: flipByte, seen: get},
		{name: "chunk shortened after Missing, store reopened", target: 1, damage: shorten, seen: reopen},
		{name: "leaf bit flip after Missing, read by Open", target: -1, damage: flipByte, seen: open},
		{name: "chunk bit flip, GC", target: 1, damage: flipByte, seen: afterGC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDisk(t, t.TempDir())
			t.Cleanup(func() { db.Close() })
			s, src := newStore(t, db, "dst/"), newStore(t, db, "src/")
			ca, cl := putBlob(t, s, a), putBlob(t, s, leaf)
			putBlob(t, src, a)
			putBlob(t, src, leaf)
			links, _ := s.Links(ca)
			blob, target := ca, cl
			if tt.target >= 0 {
				target = links[tt.target]
			} else {
				blob = cl
			}
			if tt.seen != fresh && tt.seen != afterGC {
				for _, c := range []cid.Cid{ca, cl} {
					if m, err := s.Missing(c); err != nil || m != nil {
						t.Fatalf("Missing(%s) before the damage = %v, %v", c, m, err)
					}
				}
			}
			good, _ := src.GetBlock(target) // not s: a read of s would verify it
			corrupt(t, s, target, tt.damage(good))
			switch tt.seen {
			case open:
				rc, _, err := s.Open(context.Background(), blob)
				if err != nil {
					t.Fatal(err)
				}
				_, err = io.Copy(io.Discard, rc)
				wantErr(t, err, ErrCorrupt)
				rc.Close()
			case get:
				_, err := s.GetBlock(target)
				wantErr(t, err, ErrCorrupt)
			case reopen:
				s = newStore(t, db, "dst/")
			case afterGC:
				if _, err := s.GC(context.Background()); err != nil {
					t.Fatal(err)
				}
			}

			m, err := s.Missing(blob)
			if err != nil || len(m) != 1 || !m[0].Equals(target) {
				t.Fatalf("Missing = %v, %v; want [%s]", m, err, target)
			}
			if ok, err := s.Has(blob); ok || err != nil {
				t.Fatalf("Has = %v, %v with a corrupt block", ok, err)
			}
			fetchBlob(t, s, src, blob)
			for _, c := range []cid.Cid{ca, cl} {
				if m, err := s.Missing(c); err != nil || m != nil {
					t.Fatalf("Missing(%s) after the fetch = %v, %v", c, m, err)
				}
			}
			if !bytes.Equal(readAll(t, s, ca), a) || !bytes.Equal(readAll(t, s, cl), leaf) {
				t.Fatal("a repaired blob reads back differently")
			}
			checkInvariants(t, s)
			if got, want := storedBytes(t, s), storedBytes(t, src); got != want {
				t.Fatalf("Bytes() = %d after the repair, the peer holds %d", got, want)
			}
		})
	}
}

// TestSoundSetBounded checks the memory of intact blocks: it records raw
// blocks only, forgets a block noted with an error, and is cleared rather
// than grown past maxSound.
func TestSoundSetBounded(t *testing.T) {
	v := newSoundSet()
	root := sumRoot([]byte("a root"))
	v.note(root, nil)
	if v.has(root) || len(v.m) != 0 {
		t.Fatal("a root block was recorded")
	}
	first := Sum([]byte("block 0"))
	v.note(first, nil)
	v.note(first, ErrCorrupt)
	if v.has(first) {
		t.Fatal("a block noted corrupt is still remembered")
	}
	for i := range maxSound + 1 {
		v.note(Sum([]byte(fmt.Sprint("block ", i))), nil)
		if len(v.m) > maxSound {
			t.Fatalf("%d blocks remembered, limit %d", len(v.m), maxSound)
		}
	}
	last := Sum([]byte(fmt.Sprint("block ", maxSound)))
	if !v.has(last) || v.has(first) || len(v.m) != 1 {
		t.Fatalf("after %d notes: %d remembered, last %v, first %v; want only the last",
			maxSound+1, len(v.m), v.has(last), v.has(first))
	}
}
