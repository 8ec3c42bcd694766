package cas

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestNew(t *testing.T) {
	if _, err := New(nil, []byte("p")); err == nil {
		t.Error("New(nil DB) succeeded")
	}
	if _, err := New(openMem(t), nil); err == nil {
		t.Error("New with empty prefix succeeded")
	}
}

func TestPutOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"chunk minus one", ChunkSize - 1},
		{"exactly one chunk", ChunkSize},
		{"one chunk plus one", ChunkSize + 1},
		{"5.5 MiB", 5*ChunkSize + ChunkSize/2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memStore(t)
			data := pseudo(uint64(tc.size), tc.size)
			c := putBlob(t, s, data)
			leaf := tc.size <= ChunkSize
			if wantPrefix := map[bool]string{true: "bafkrei", false: "bafyrei"}[leaf]; !strings.HasPrefix(c.String(), wantPrefix) {
				t.Fatalf("CID %s, want prefix %s", c, wantPrefix)
			}
			if leaf && !c.Equals(independentCID(t, cid.Raw, data)) {
				t.Fatalf("leaf CID %s is not the raw-leaf CID", c)
			}
			if got := readAll(t, s, c); !bytes.Equal(got, data) {
				t.Fatal("read back different bytes")
			}
			if n, err := s.Stat(c); err != nil || n != int64(tc.size) {
				t.Fatalf("Stat = %d, %v", n, err)
			}
			if ok, err := s.Has(c); !ok || err != nil {
				t.Fatalf("Has = %v, %v", ok, err)
			}
			if m, err := s.Missing(c); len(m) != 0 || err != nil {
				t.Fatalf("Missing = %v, %v", m, err)
			}
			links, err := s.Links(c)
			if err != nil || (leaf && links != nil) || (!leaf && len(links) != numChunks(int64(tc.size))) {
				t.Fatalf("Links = %d links, %v", len(links), err)
			}
			block, err := s.GetBlock(c)
			if err != nil || (leaf && !bytes.Equal(block, data)) {
				t.Fatalf("GetBlock: %v", err)
			}
			want := int64(len(block))
			for i := range links {
				want += int64(chunkLen(int64(tc.size), i))
			}
			if got := storedBytes(t, s); got != want {
				t.Fatalf("Bytes() = %d, want %d", got, want)
			}
			if again := putBlob(t, s, data); !again.Equals(c) || storedBytes(t, s) != want {
				t.Fatalf("second Put: %s, Bytes %d", again, storedBytes(t, s))
			}
			checkInvariants(t, s)
		})
	}
}

func TestDedupSharedChunks(t *testing.T) {
	s := memStore(t)
	x, y := pseudo(1, ChunkSize), pseudo(2, ChunkSize)
	a := bytes.Join([][]byte{x, y, pseudo(3, ChunkSize/2)}, nil)
	b := bytes.Join([][]byte{x, y, pseudo(4, 1000)}, nil)
	ca, cb := putBlob(t, s, a), putBlob(t, s, b)
	la, _ := s.Links(ca)
	lb, _ := s.Links(cb)
	if !la[0].Equals(lb[0]) || !la[1].Equals(lb[1]) || la[2].Equals(lb[2]) {
		t.Fatal("blobs with a common prefix do not share its chunks")
	}
	rootA, _ := s.GetBlock(ca)
	rootB, _ := s.GetBlock(cb)
	want := int64(2*ChunkSize + ChunkSize/2 + 1000 + len(rootA) + len(rootB))
	if got := storedBytes(t, s); got != want {
		t.Fatalf("Bytes() = %d, want %d (shared chunks stored once)", got, want)
	}
	// x alone is a leaf with the CID of the shared chunk.
	if cx := putBlob(t, s, x); !cx.Equals(la[0]) || storedBytes(t, s) != want {
		t.Fatalf("leaf x: %s vs chunk %s, Bytes %d", cx, la[0], storedBytes(t, s))
	}
	// A blob repeating one chunk stores it once.
	rep := bytes.Repeat(x, 3)
	cr := putBlob(t, s, rep)
	rootR, _ := s.GetBlock(cr)
	want += int64(len(rootR))
	if got := storedBytes(t, s); got != want {
		t.Fatalf("Bytes() = %d after a repeating blob, want %d", got, want)
	}
	checkInvariants(t, s)

	mustDelete(t, s, ca)
	want -= int64(ChunkSize/2 + len(rootA))
	if got := storedBytes(t, s); got != want {
		t.Fatalf("after Delete(a): Bytes() = %d, want %d", got, want)
	}
	mustDelete(t, s, la[0]) // x as a blob; still a chunk of b and rep
	if !bytes.Equal(readAll(t, s, cb), b) || !bytes.Equal(readAll(t, s, cr), rep) {
		t.Fatal("b or rep damaged by deleting a and x")
	}
	mustDelete(t, s, cb)
	mustDelete(t, s, cr)
	if got := storedBytes(t, s); got != 0 {
		t.Fatalf("all deleted: Bytes() = %d", got)
	}
	checkInvariants(t, s)
}

func mustDelete(tb testing.TB, s *Store, c cid.Cid) {
	tb.Helper()
	if err := s.Delete(c); err != nil {
		tb.Fatalf("Delete(%s): %v", c, err)
	}
}

func TestDelete(t *testing.T) {
	for _, size := range []int{10, 3*ChunkSize + 1} {
		s := memStore(t)
		c := putBlob(t, s, pseudo(7, size))
		mustDelete(t, s, c)
		if ok, err := s.Has(c); ok || err != nil {
			t.Fatalf("size %d: Has after Delete = %v, %v", size, ok, err)
		}
		_, err := s.Stat(c)
		wantErr(t, err, ErrNotFound)
		_, _, err = s.Open(context.Background(), c)
		wantErr(t, err, ErrNotFound)
		_, err = s.GetBlock(c)
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.Delete(c), ErrNotFound)
		if n := storedBytes(t, s); n != 0 {
			t.Fatalf("size %d: Bytes() = %d after Delete", size, n)
		}
		checkInvariants(t, s)
	}
}

// errReader yields n bytes, then fails.
type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("disk on fire")
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func TestPutFailuresLeaveNothing(t *testing.T) {
	s := memStore(t)
	keep := pseudo(9, 2*ChunkSize+5)
	ck := putBlob(t, s, keep)
	before := storedBytes(t, s)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		r     io.Reader
		limit int64
		want  error
	}{
		{"small over limit", context.Background(), bytes.NewReader(make([]byte, 11)), 10, ErrTooLarge},
		{"large over limit", context.Background(), bytes.NewReader(pseudo(10, 3*ChunkSize)), 2*ChunkSize + ChunkSize/2, ErrTooLarge},
		{"shares chunks, over limit", context.Background(), bytes.NewReader(append(bytes.Clone(keep), 1, 2, 3)), int64(len(keep)), ErrTooLarge},
		{"read error", context.Background(), &errReader{n: 2*ChunkSize + 100}, 0, nil},
		{"cancelled", cancelled, bytes.NewReader(pseudo(11, 2*ChunkSize)), 0, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Put(tc.ctx, tc.r, tc.limit)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Put error %v, want %v", err, tc.want)
			}
			if got := storedBytes(t, s); got != before {
				t.Fatalf("Bytes() = %d after failed Put, want %d", got, before)
			}
			checkInvariants(t, s)
		})
	}
	if !bytes.Equal(readAll(t, s, ck), keep) {
		t.Fatal("failed Puts damaged a stored blob")
	}
	if _, n, err := s.Put(context.Background(), bytes.NewReader(keep), int64(len(keep))); err != nil || n != int64(len(keep)) {
		t.Fatalf("Put at exactly the limit: %d, %v", n, err)
	}
	if len(s.pending) != 0 {
		t.Fatalf("pending chunks left: %d", len(s.pending))
	}
}

func TestMissingLinksExchange(t *testing.T) {
	db := openMem(t)
	src, dst := newStore(t, db, "a/"), newStore(t, db, "b/")
	data := bytes.Join([][]byte{pseudo(1, ChunkSize), pseudo(1, ChunkSize), pseudo(2, ChunkSize/3)}, nil)
	c := putBlob(t, src, data)
	if links, _ := src.Links(Sum(data[:10])); links != nil {
		t.Fatal("Links of a raw leaf is not nil")
	}
	_, err := dst.Links(c)
	wantErr(t, err, ErrNotFound)
	if m, err := dst.Missing(c); err != nil || len(m) != 1 || !m[0].Equals(c) {
		t.Fatalf("Missing on an empty store = %v, %v; want the root", m, err)
	}
	for round := 0; ; round++ {
		missing, err := dst.Missing(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) == 0 {
			break
		}
		if round == 1 && len(missing) != 2 { // the repeated chunk is listed once
			t.Fatalf("after the root: %d missing, want 2 distinct chunks", len(missing))
		}
		if round == 1 {
			if n, err := dst.Stat(c); n != int64(len(data)) || err != nil {
				t.Fatalf("Stat with chunks absent = %d, %v", n, err)
			}
			if ok, _ := dst.Has(c); ok {
				t.Fatal("Has true with chunks absent")
			}
			_, _, err := dst.Open(context.Background(), c)
			wantErr(t, err, ErrNotFound)
		}
		copyBlocks(t, dst, src, missing)
	}
	if !bytes.Equal(readAll(t, dst, c), data) {
		t.Fatal("exchanged blob differs")
	}
	if storedBytes(t, dst) != storedBytes(t, src) {
		t.Fatalf("Bytes: dst %d, src %d", storedBytes(t, dst), storedBytes(t, src))
	}
	checkInvariants(t, dst)
	mustDelete(t, dst, c)
	if n := storedBytes(t, dst); n != 0 {
		t.Fatalf("Bytes() = %d after deleting the exchanged blob", n)
	}
}

func TestPutBlock(t *testing.T) {
	s := memStore(t)
	data := []byte("a standalone block")
	c := Sum(data)
	wantErr(t, s.PutBlock(c, []byte("other bytes")), ErrCorrupt)
	wantErr(t, s.PutBlock(Sum(make([]byte, ChunkSize+1)), make([]byte, ChunkSize+1)), ErrTooLarge)
	junk := []byte("not a root block")
	wantErr(t, s.PutBlock(sumRoot(junk), junk), ErrCorrupt)
	wantErr(t, s.PutBlock(sumRoot(junk), make([]byte, MaxRootSize+1)), ErrTooLarge)
	if n := storedBytes(t, s); n != 0 {
		t.Fatalf("rejected blocks stored %d bytes", n)
	}
	if err := s.PutBlock(c, data); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBlock(c, data); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, s, c), data) || storedBytes(t, s) != int64(len(data)) {
		t.Fatal("standalone raw block is not a blob")
	}
	mustDelete(t, s, c)
	checkInvariants(t, s)
}

func TestCorruption(t *testing.T) {
	s := memStore(t)
	data := pseudo(5, 3*ChunkSize+17)
	c := putBlob(t, s, data)
	links, _ := s.Links(c)
	good, _ := s.GetBlock(links[1])
	bad := bytes.Clone(good)
	bad[100] ^= 1
	for name, stored := range map[string][]byte{"bit flip": bad, "truncated": good[:ChunkSize-1], "empty": {}} {
		corrupt(t, s, links[1], stored)
		rc, _, err := s.Open(context.Background(), c)
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		_, err = io.ReadAll(rc)
		wantErr(t, err, ErrCorrupt)
		_, err = io.Copy(io.Discard, rc) // the error sticks
		wantErr(t, err, ErrCorrupt)
		rc.Close()
		_, err = s.GetBlock(links[1])
		wantErr(t, err, ErrCorrupt)
	}
	// A peer's good copy repairs it, and the byte counter follows.
	if err := s.PutBlock(links[1], good); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, s, c), data) {
		t.Fatal("repair failed")
	}
	checkInvariants(t, s)

	leaf := []byte("small blob")
	cl := putBlob(t, s, leaf)
	corrupt(t, s, cl, []byte("smell blob"))
	rc, _, err := s.Open(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	wantErr(t, err, ErrCorrupt)
	putBlob(t, s, leaf) // Put repairs too

	rootBlock, _ := s.GetBlock(c)
	corrupt(t, s, c, append(bytes.Clone(rootBlock), 0))
	_, _, err = s.Open(context.Background(), c)
	wantErr(t, err, ErrCorrupt)
	if m, err := s.Missing(c); err != nil || len(m) != 1 || !m[0].Equals(c) {
		t.Fatalf("Missing with a corrupt root = %v, %v", m, err)
	}
	mustDelete(t, s, c) // no longer decodes: its chunks stay until GC
	mustDelete(t, s, cl)
	freed, err := s.GC(context.Background())
	if err != nil || freed != int64(len(data)) {
		t.Fatalf("GC freed %d, %v; want %d", freed, err, len(data))
	}
	if n := storedBytes(t, s); n != 0 {
		t.Fatalf("Bytes() = %d", n)
	}
	checkInvariants(t, s)
}

func TestClosedReaderAndCancel(t *testing.T) {
	s := memStore(t)
	c := putBlob(t, s, pseudo(3, 2*ChunkSize+1))
	ctx, cancel := context.WithCancel(context.Background())
	rc, _, err := s.Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := rc.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.ReadAll(rc)
	wantErr(t, err, context.Canceled)
	rc.Close()
	if _, err := rc.Read(buf); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}
