package cas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// TestGCAfterCrash simulates a Put cut short by a crash (chunks written, no
// root) and a reference record that drifted, and checks GC repairs both.
func TestGCAfterCrash(t *testing.T) {
	s := memStore(t)
	keep := pseudo(1, 2*ChunkSize+3)
	ck := putBlob(t, s, keep)
	want := storedBytes(t, s)
	orphan, held := pseudo(2, ChunkSize), pseudo(3, 1000)
	for _, d := range [][]byte{orphan, held} {
		if err := s.update(func(w *wtxn) error { _, err := w.putBlock(Sum(d), d); return err }); err != nil {
			t.Fatal(err)
		}
	}
	s.pending[Sum(held).KeyString()] = 1 // as if a Put were still running
	links, _ := s.Links(ck)
	err := s.update(func(w *wtxn) error { return w.setRef(links[0], ref{roots: 7}) })
	if err != nil {
		t.Fatal(err)
	}
	freed, err := s.GC(context.Background())
	if err != nil || freed != ChunkSize {
		t.Fatalf("GC = %d, %v; want %d", freed, err, ChunkSize)
	}
	if got := storedBytes(t, s); got != want+1000 {
		t.Fatalf("Bytes() = %d, want %d", got, want+1000)
	}
	delete(s.pending, Sum(held).KeyString())
	if _, err := s.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if !bytes.Equal(readAll(t, s, ck), keep) {
		t.Fatal("GC damaged a blob")
	}
	mustDelete(t, s, ck)
	if got := storedBytes(t, s); got != 0 {
		t.Fatalf("Bytes() = %d after deleting everything", got)
	}
}

// TestConcurrent puts, checks, reads and deletes overlapping blobs from several
// goroutines (run with -race) and then checks the bookkeeping.
func TestConcurrent(t *testing.T) {
	s := memStore(t)
	shared := [][]byte{pseudo(1, ChunkSize), pseudo(2, ChunkSize)}
	blob := func(i int) []byte {
		return bytes.Join([][]byte{shared[i%2], shared[(i+1)%2], pseudo(uint64(i%3), 1+i%3*1000)}, nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Go(func() {
			for i := range 6 {
				data := blob(g + i)
				c, _, err := s.Put(context.Background(), bytes.NewReader(data), 0)
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.Missing(c); err != nil { // hashes chunks others may be dropping
					errs <- err
				}
				if _, _, err := s.Put(context.Background(), bytes.NewReader(data), ChunkSize); err == nil {
					errs <- fmt.Errorf("over-limit put succeeded")
				}
				if i%2 == 0 {
					if err := s.Delete(c); err != nil && !errors.Is(err, ErrNotFound) {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkInvariants(t, s)
	if len(s.pending) != 0 {
		t.Fatalf("%d pending chunks left", len(s.pending))
	}
}

// TestOnDisk stores blobs in a badger DB on disk, reopens it and reads them.
func TestOnDisk(t *testing.T) {
	dir := t.TempDir()
	db := openDisk(t, dir)
	s := newStore(t, db, "blob/")
	if s.split {
		t.Fatal("on-disk store splits blocks")
	}
	big, small := pseudo(1, 2*ChunkSize+ChunkSize/2), []byte("small")
	cb, cs := putBlob(t, s, big), putBlob(t, s, small)
	want := storedBytes(t, s)
	checkInvariants(t, s)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDisk(t, dir)
	defer db.Close()
	s = newStore(t, db, "blob/")
	if !bytes.Equal(readAll(t, s, cb), big) || !bytes.Equal(readAll(t, s, cs), small) {
		t.Fatal("blobs differ after reopening")
	}
	if got := storedBytes(t, s); got != want {
		t.Fatalf("Bytes() = %d after reopening, want %d", got, want)
	}
	links, _ := s.Links(cb)
	corrupt(t, s, links[0], make([]byte, ChunkSize))
	_, err := s.GetBlock(links[0])
	wantErr(t, err, ErrCorrupt)
	mustDelete(t, s, cb)
	mustDelete(t, s, cs)
	if got := storedBytes(t, s); got != 0 {
		t.Fatalf("Bytes() = %d after deleting all", got)
	}
	checkInvariants(t, s)
}

// TestPrefixIsolation runs two stores on one DB beside foreign keys.
func TestPrefixIsolation(t *testing.T) {
	db := openMem(t)
	a, b := newStore(t, db, "a/"), newStore(t, db, "b/")
	err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("a/x"), []byte("foreign")) })
	if err != nil {
		t.Fatal(err)
	}
	c := putBlob(t, a, []byte("only in a"))
	if ok, _ := b.Has(c); ok {
		t.Fatal("store b sees store a's blob")
	}
	if _, err := a.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	if storedBytes(t, b) != 0 || storedBytes(t, a) != int64(len("only in a")) {
		t.Fatal("byte counters leak across prefixes")
	}
}

// TestLargeRootSmallMemtable stores and deletes a root of 5,000 links in a DB
// configured like the node's smallest (1 MiB memtable: ~1,600 entries per
// transaction), which only works because references are updated in batches.
func TestLargeRootSmallMemtable(t *testing.T) {
	opts := badger.DefaultOptions(t.TempDir()).WithLogger(nil).
		WithMemTableSize(1 << 20).WithValueThreshold(4 << 10)
	db, err := badger.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newStore(t, db, "blob/")
	r := testRoot(5000 * ChunkSize)
	block := r.encode()
	c := sumRoot(block)
	if err := s.PutBlock(c, block); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Missing(c); err != nil || len(m) != 5000 {
		t.Fatalf("Missing = %d, %v", len(m), err)
	}
	for _, l := range r.links[:3] { // fetch a few chunks of it
		if err := s.PutBlock(l, []byte(fmt.Sprintf("chunk %d", idx(r.links, l)))); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, s)
	mustDelete(t, s, c)
	if got := storedBytes(t, s); got != 0 {
		t.Fatalf("Bytes() = %d after Delete", got)
	}
	checkInvariants(t, s)
}

func idx(links []cid.Cid, l cid.Cid) int {
	for i, x := range links {
		if x.Equals(l) {
			return i
		}
	}
	return -1
}
