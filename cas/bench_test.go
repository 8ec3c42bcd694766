package cas

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
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

// BenchmarkMissing asks what a whole 64 MiB blob stored on disk lacks
// (nothing). "presence" is the baseline, measured first: the root verified
// and each chunk looked up, all that Missing did before it checked chunk
// contents. "Missing" is the usual call, on chunks this Store has verified
// already; "first" is the first call of a new Store, which reads and hashes
// every chunk.
func BenchmarkMissing(b *testing.B) {
	db := benchDB(b)
	s := newStore(b, db, "blob/")
	c := putBlob(b, s, pseudo(4, benchSize))
	var base float64
	perOp := func(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }
	b.Run("presence", func(b *testing.B) {
		for b.Loop() {
			err := s.db.View(func(txn *badger.Txn) error {
				r, err := s.readRoot(txn, c)
				if err != nil {
					return err
				}
				if m, err := s.absent(txn, r.links, s.hasBlock); err != nil || m != nil {
					return fmt.Errorf("absent = %v, %v", m, err)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		base = perOp(b)
	})
	missing := func(b *testing.B, s *Store) {
		if m, err := s.Missing(c); err != nil || m != nil {
			b.Fatalf("Missing = %v, %v", m, err)
		}
	}
	b.Run("Missing", func(b *testing.B) {
		missing(b, s) // verifies the chunks once
		for b.Loop() {
			missing(b, s)
		}
		if base > 0 {
			b.ReportMetric(perOp(b)/base, "x-presence")
		}
	})
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			missing(b, newStore(b, db, "blob/")) // New neither reads nor writes
		}
		if base > 0 {
			b.ReportMetric(perOp(b)/base, "x-presence")
		}
	})
}

// BenchmarkGC runs GC over a 64 MiB blob on disk (nothing to remove).
// "scan" is the baseline, measured first: reading every block, which GC did
// before it hashed raw blocks too.
func BenchmarkGC(b *testing.B) {
	s := newStore(b, benchDB(b), "blob/")
	putBlob(b, s, pseudo(5, benchSize))
	var base float64
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			var n int64
			err := s.db.View(func(txn *badger.Txn) error {
				return s.scanKeys(context.Background(), txn, tagBlock, func(c cid.Cid, _ kind) error {
					data, _, err := s.loadBlock(txn, c, nil)
					n += int64(len(data))
					return err
				})
			})
			if err != nil || n < benchSize {
				b.Fatalf("scanned %d bytes, %v", n, err)
			}
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("GC", func(b *testing.B) {
		for b.Loop() {
			if freed, err := s.GC(context.Background()); err != nil || freed != 0 {
				b.Fatalf("GC = %d, %v", freed, err)
			}
		}
		if base > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-scan")
		}
	})
}

// benchDB opens a badger DB on disk in a temporary directory.
func benchDB(b *testing.B) *badger.DB {
	db := openDisk(b, b.TempDir())
	b.Cleanup(func() { db.Close() })
	return db
}
