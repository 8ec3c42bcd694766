package cas

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

func testRoot(size int64) root {
	r := root{size: size}
	for i := range numChunks(size) {
		r.links = append(r.links, Sum(fmt.Appendf(nil, "chunk %d", i)))
	}
	return r
}

func TestRootEncoding(t *testing.T) {
	r := testRoot(ChunkSize + 1)
	b := r.encode()
	// a2, "size", 1a 00100001, "chunks", 82, then two links.
	head := "a2" + "6473697a65" + "1a00100001" + "666368756e6b73" + "82"
	if got := hex.EncodeToString(b[:len(head)/2]); got != head {
		t.Fatalf("header %s, want %s", got, head)
	}
	link0 := "d82a582500" + hex.EncodeToString(r.links[0].Bytes())
	if got := hex.EncodeToString(b[len(head)/2:][:linkLen]); got != link0 {
		t.Fatalf("first link %s, want %s", got, link0)
	}
	if len(b) != len(head)/2+2*linkLen {
		t.Fatalf("root block of %d bytes", len(b))
	}
	if c := sumRoot(b).String(); !strings.HasPrefix(c, "bafyrei") {
		t.Fatalf("root CID %s, want prefix bafyrei", c)
	}
	if got := independentCID(t, cid.DagCBOR, b); !got.Equals(sumRoot(b)) {
		t.Fatalf("root CID %s, independently %s", sumRoot(b), got)
	}
}

func TestRootRoundTrip(t *testing.T) {
	for _, size := range []int64{ChunkSize + 1, 2 * ChunkSize, 24*ChunkSize + 5, 300 * ChunkSize, 1 << 32, MaxSize} {
		r := testRoot(size)
		b := r.encode()
		if len(b) > MaxRootSize {
			t.Fatalf("size %d: root of %d bytes > MaxRootSize %d", size, len(b), MaxRootSize)
		}
		got, err := decodeRoot(b)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got.size != size || len(got.links) != len(r.links) || !bytes.Equal(got.encode(), b) {
			t.Fatalf("size %d: round trip changed the root", size)
		}
	}
}

func TestRootDecodeRejects(t *testing.T) {
	good := testRoot(2*ChunkSize + 7).encode()
	rawLink := Sum([]byte("x")).KeyString()
	rootLink := sumRoot([]byte("x")).KeyString()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(bytes.Clone(good), 0)},
		{"size too small", testRootBytes(ChunkSize, []string{rawLink})},
		{"too few links", testRootBytes(3*ChunkSize, []string{rawLink, rawLink})},
		{"too many links", testRootBytes(2*ChunkSize, []string{rawLink, rawLink, rawLink})},
		{"link to a root", testRootBytes(2*ChunkSize, []string{rawLink, rootLink})},
		{"non-minimal size", append([]byte("\xa2\x64size\x1b\x00\x00\x00\x00\x00\x20\x00\x07"), good[11:]...)},
		{"keys swapped", append([]byte("\xa2\x66chunks"), good[6:]...)},
		{"too large", make([]byte, MaxRootSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeRoot(tc.b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeRoot accepted or wrong error: %v", err)
			}
		})
	}
}

// testRootBytes encodes a root without the invariant checks of encode.
func testRootBytes(size int64, links []string) []byte {
	b := []byte(rootMap + keySize)
	b = appendHead(b, cborUint, uint64(size))
	b = append(b, keyChunks...)
	b = appendHead(b, cborArray, uint64(len(links)))
	for _, l := range links {
		b = append(append(b, linkHead...), l...)
	}
	return b
}

func FuzzRootDecode(f *testing.F) {
	f.Add(testRoot(ChunkSize + 1).encode())
	f.Add(testRoot(5*ChunkSize + ChunkSize/2).encode())
	f.Add(testRootBytes(30*ChunkSize, []string{Sum(nil).KeyString()}))
	f.Add([]byte("\xa2\x64size\x1a\x00\x10\x00\x01\x66chunks\x82"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRoot(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc := r.encode()
		if !bytes.Equal(enc, b) {
			t.Fatalf("decode→encode changed %x into %x", b, enc)
		}
		again, err := decodeRoot(enc)
		if err != nil || again.size != r.size || len(again.links) != len(r.links) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzRefDecode(f *testing.F) {
	f.Add(ref{pinned: true}.encode())
	f.Add(ref{roots: 300}.encode())
	f.Add([]byte{1, 0x80, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, ok := decodeRef(v)
		if ok && !bytes.Equal(r.encode(), v) {
			t.Fatalf("decode→encode changed %x into %x", v, r.encode())
		}
	})
}
