package cas

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// benchSize is the blob size of the benchmarks.
const benchSize = 64 << 20

// BenchmarkSHA256 is the baseline: hashing the bytes Put and Open must hash.
func BenchmarkSHA256(b *testing.B) {
	data := pseudo(1, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		for off := 0; off < len(data); off += ChunkSize {
			sha256.Sum256(data[off : off+ChunkSize])
		}
	}
}

// BenchmarkPut stores a new 64 MiB blob per iteration (each chunk is changed,
// so nothing deduplicates) in a badger DB on disk.
func BenchmarkPut(b *testing.B) {
	s := newStore(b, benchDB(b), "blob/")
	data := pseudo(2, benchSize)
	b.SetBytes(benchSize)
	i := uint64(0)
	for b.Loop() {
		i++
		for off := 0; off < len(data); off += ChunkSize {
			binary.LittleEndian.PutUint64(data[off:], i)
		}
		if _, _, err := s.Put(context.Background(), bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet streams a 64 MiB blob back, verifying every chunk.
func BenchmarkGet(b *testing.B) {
	s := newStore(b, benchDB(b), "blob/")
	c := putBlob(b, s, pseudo(3, benchSize))
	b.SetBytes(benchSize)
	for b.Loop() {
		rc, _, err := s.Open(context.Background(), c)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != benchSize {
			b.Fatalf("read %d, %v", n, err)
		}
		rc.Close()
	}
}

// benchDB opens a badger DB on disk in a temporary directory.
func benchDB(b *testing.B) *badger.DB {
	db := openDisk(b, b.TempDir())
	b.Cleanup(func() { db.Close() })
	return db
}
