package cas

import (
	"bytes"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
)

// blobCID computes the CID Put gives data (more than ChunkSize bytes)
// without a store.
func blobCID(data []byte) cid.Cid {
	r := root{size: int64(len(data))}
	for off := 0; off < len(data); off += ChunkSize {
		r.links = append(r.links, Sum(data[off:min(off+ChunkSize, len(data))]))
	}
	return sumRoot(r.encode())
}

// TestPutFinishRace does, at the one point where it used to go wrong, what
// another goroutine may do while a Put is between storing its root and
// letting go of its chunks (the afterRoot hook). Then it checks that no
// chunk is orphaned, none a stored blob needs is gone, and the blobs left
// read back.
func TestPutFinishRace(t *testing.T) {
	data := pseudo(1, 2*ChunkSize+1001)
	// other shares both full chunks of data, in the other order.
	other := slices.Concat(data[ChunkSize:2*ChunkSize], data[:ChunkSize], pseudo(5, 7))
	del := func(b []byte) func(*testing.T, *Store) {
		return func(t *testing.T, s *Store) { mustDelete(t, s, blobCID(b)) }
	}
	tests := []struct {
		name   string
		before [][]byte // stored before the Put of data
		window func(t *testing.T, s *Store)
		after  [][]byte // the blobs stored at the end
	}{
		{name: "new root deleted", window: del(data)},
		{name: "stored root deleted", before: [][]byte{data}, window: del(data)},
		{name: "deleted, chunks shared with a blob", before: [][]byte{other}, window: del(data), after: [][]byte{other}},
		{
			name: "deleted and put again",
			window: func(t *testing.T, s *Store) {
				mustDelete(t, s, blobCID(data))
				putBlob(t, s, data)
			},
			after: [][]byte{data},
		},
		{name: "blob sharing its chunks deleted", before: [][]byte{other}, window: del(other), after: [][]byte{data}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memStore(t)
			for _, b := range tt.before {
				putBlob(t, s, b)
			}
			s.afterRoot = func(cid.Cid) {
				s.afterRoot = nil // the window's own Puts run straight through
				tt.window(t, s)
			}
			if c := putBlob(t, s, data); !c.Equals(blobCID(data)) {
				t.Fatalf("Put gave %s, blobCID %s", c, blobCID(data))
			}
			checkInvariants(t, s)
			for _, b := range [][]byte{data, other} {
				ok, err := s.Has(blobCID(b))
				if err != nil || ok != slices.ContainsFunc(tt.after, func(a []byte) bool { return bytes.Equal(a, b) }) {
					t.Fatalf("Has(blob of %d bytes) = %v, %v", len(b), ok, err)
				}
			}
			for _, b := range tt.after {
				if !bytes.Equal(readAll(t, s, blobCID(b)), b) {
					t.Fatalf("blob of %d bytes reads back differently", len(b))
				}
				mustDelete(t, s, blobCID(b))
			}
			if got := storedBytes(t, s); got != 0 {
				t.Fatalf("Bytes() = %d after deleting every blob", got)
			}
			checkInvariants(t, s)
		})
	}
}
