package cas

import (
	"bytes"
	"context"
	"io"
	"testing"

	"pgregory.net/rapid"
)

// drawBlob draws a byte string: small arbitrary bytes, or a larger one around
// chunk boundaries, optionally made of a repeating unit so chunks repeat.
func drawBlob(t *rapid.T) []byte {
	if rapid.Bool().Draw(t, "small") {
		return rapid.SliceOfN(rapid.Byte(), 0, 512).Draw(t, "bytes")
	}
	size := rapid.OneOf(
		rapid.SampledFrom([]int{ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 2*ChunkSize + 1}),
		rapid.IntRange(0, 3*ChunkSize),
	).Draw(t, "size")
	seed := rapid.Uint64().Draw(t, "seed")
	if unit := rapid.SampledFrom([]int{0, 1, 4096, ChunkSize}).Draw(t, "repeat unit"); unit > 0 && size > 0 {
		return bytes.Repeat(pseudo(seed, unit), size/unit+1)[:size]
	}
	return pseudo(seed, size)
}

// TestPropRoundTrip: any byte string round-trips through Put and Open, its
// CID does not depend on the store or on earlier Puts, and deleting it
// restores the byte counter.
func TestPropRoundTrip(t *testing.T) {
	db := openMem(t)
	s1, s2 := newStore(t, db, "one/"), newStore(t, db, "two/")
	rapid.Check(t, func(t *rapid.T) {
		data := drawBlob(t)
		before := storedBytes(t, s1)
		c, n, err := s1.Put(context.Background(), bytes.NewReader(data), 0)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put: %d, %v", n, err)
		}
		if got := readAll(t, s1, c); !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes differing from the %d put", len(got), len(data))
		}
		c2, _, err := s2.Put(context.Background(), iotestOneByte(data), int64(len(data)))
		if err != nil || !c2.Equals(c) {
			t.Fatalf("CID not deterministic: %s vs %s (%v)", c, c2, err)
		}
		if len(data) <= ChunkSize && !c.Equals(Sum(data)) {
			t.Fatalf("leaf CID %s, Sum gives %s", c, Sum(data))
		}
		if again := putBlob(t, s1, data); !again.Equals(c) {
			t.Fatalf("second Put gave %s, first %s", again, c)
		}
		if err := s1.Delete(c); err != nil {
			t.Fatal(err)
		}
		if err := s2.Delete(c); err != nil {
			t.Fatal(err)
		}
		if got := storedBytes(t, s1); got != before {
			t.Fatalf("Bytes() = %d after Put+Delete, was %d", got, before)
		}
	})
	checkInvariants(t, s1)
	checkInvariants(t, s2)
}

// iotestOneByte returns a reader that yields data in short reads, to exercise
// the chunker on readers that never fill a buffer at once.
func iotestOneByte(data []byte) *shortReader { return &shortReader{data: data} }

type shortReader struct{ data []byte }

func (r *shortReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 4093)], r.data)
	r.data = r.data[n:]
	return n, nil
}
