package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/store"
)

// archiveAll fills a fleet (events over a change of date, blobs) and
// archives it into b with files of at most rows events.
func archiveAll(t *testing.T, b Bucket, rows int) (*fleet, *Archiver) {
	t.Helper()
	f := newFleet(t, t.TempDir())
	f.grow(t, 250, "a")
	f.advance(2 * time.Hour) // past midnight UTC
	f.grow(t, 120, "b")
	a := f.archiver(t, b, rows)
	if n := drain(t, a, f.sink.clk); n < 3*(250/rows+120/rows) {
		t.Fatalf("only %d files for %d rows per file", n, rows)
	}
	if !sameWatermarks(a, f.sink.st) {
		t.Fatalf("watermarks %v, store holds %v", a.Watermarks(), f.sink.st.VersionVector())
	}
	return f, a
}

func TestArchiveToDirectory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	b, err := OpenBucket(context.Background(), root) // a plain path
	if err != nil {
		t.Fatal(err)
	}
	f, a := archiveAll(t, b, 100)
	defer a.Close()
	if n := checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData); n != 3*370 {
		t.Fatalf("%d rows archived, want %d", n, 3*370)
	}
	// Files are cut at the date change; the listing says so.
	files, more := a.Files(FileQuery{})
	dates := map[string]int{}
	for _, fl := range files {
		dates[fl.Date]++
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(fl.Name)))
		if err != nil || info.Size() != fl.Bytes {
			t.Fatalf("listed %+v, on disk %v %v", fl, info, err)
		}
	}
	if more || len(dates) != 2 || dates["2023-11-14"] == 0 || dates["2023-11-15"] == 0 {
		t.Fatalf("files by date %v (more %v)", dates, more)
	}
	// Writing a range again writes the same bytes under the same name.
	fl := files[len(files)-1]
	var rows []Row
	if err := f.sink.st.ScanReceived(scanFrom(fl.Device, fl.First, int(fl.Rows())), func(e *eventT, at int64) error {
		rows = append(rows, RowOf(e, at))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	again, err := EncodeParquet(rows)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(fl.Name)))
	if err != nil || !bytes.Equal(again, disk) {
		t.Fatalf("re-encoding %s gives other bytes (%d vs %d)", fl.Name, len(again), len(disk))
	}
}

// TestRestartNeverOverlaps archives part of a fleet, loses a file from the
// middle of one device's range (as if a later upload had landed and an
// earlier one not), leaves a stale cache, and restarts with other
// boundaries: the archive ends up with every event exactly once.
func TestRestartNeverOverlaps(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	b, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t, t.TempDir())
	f.grow(t, 250, "a")
	a := f.archiver(t, b, 40)
	drain(t, a, f.sink.clk)
	dev := f.devices[0].id
	lost, _ := a.Files(FileQuery{Device: dev, After: 40, Limit: 1}) // seqs 41-80
	if len(lost) != 1 || lost[0].First != 41 || lost[0].Last != 80 {
		t.Fatalf("files after 40: %+v", lost)
	}
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(lost[0].Name))); err != nil {
		t.Fatal(err)
	}
	f.grow(t, 100, "b")
	// A new archiver (a restart) with other boundaries, and a cache that
	// claims more than the bucket holds.
	b2, err := OpenBucket(context.Background(), "file://"+root)
	if err != nil {
		t.Fatal(err)
	}
	cache := NewBadgerCache(f.sink.st.DB(), []byte{store.PrefixArchive})
	if err := cache.Save(dev, 250); err != nil {
		t.Fatal(err)
	}
	a2 := f.archiver(t, b2, 33)
	defer a2.Close()
	if got := a2.Watermarks()[dev]; got != 250 {
		t.Fatalf("before listing, watermark %d; want the cached 250", got)
	}
	for i := 0; i < 2; i++ { // lists, then fills the gap (no wait: it is bounded)
		if _, err := a2.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	gap, _ := a2.Files(FileQuery{Device: dev, After: 40, Limit: 2})
	if gap[0].First != 41 || gap[0].Last != 73 || gap[1].First != 74 || gap[1].Last != 80 {
		t.Fatalf("gap refilled as %+v, want 41-73 and 74-80", gap)
	}
	drain(t, a2, f.sink.clk)
	if !sameWatermarks(a2, f.sink.st) {
		t.Fatalf("watermarks %v, store %v", a2.Watermarks(), f.sink.st.VersionVector())
	}
	if cached, _ := cache.Load(); cached[dev] != 350 {
		t.Fatalf("cache holds %d after the restart, want 350", cached[dev])
	}
	checkArchive(t, root, f.sink.st, a2.Watermarks(), f.blobData)
}

// failingBucket fails Puts of keys with the given prefix halfway through
// their bytes, counting them.
type failingBucket struct {
	Bucket
	prefix string
	fails  atomic.Int32
}

func (b *failingBucket) Put(ctx context.Context, key, ctype string, body io.ReadSeeker) error {
	if b.prefix == "" || len(key) < len(b.prefix) || key[:len(b.prefix)] != b.prefix {
		return b.Bucket.Put(ctx, key, ctype, body)
	}
	b.fails.Add(1)
	data, _ := io.ReadAll(body)
	return b.Bucket.Put(ctx, key, ctype, &halfReader{data: data})
}

// halfReader is a body whose reads fail past its first half, as when a
// connection breaks mid-upload.
type halfReader struct {
	data []byte
	off  int64
}

func (h *halfReader) Read(p []byte) (int, error) {
	if h.off >= int64(len(h.data)/2) {
		return 0, errors.New("connection reset (test)")
	}
	n := copy(p, h.data[h.off:len(h.data)/2])
	h.off += int64(n)
	return n, nil
}

func (h *halfReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		h.off = off
	case io.SeekCurrent:
		h.off += off
	case io.SeekEnd:
		h.off = int64(len(h.data)) + off
	}
	return h.off, nil
}

// countObserver counts what the archiver reports (its workers call it
// concurrently).
type countObserver struct {
	mu                           sync.Mutex
	files, events, blobs, failed int
}

func (c *countObserver) FileArchived(n int, _ int64) {
	c.mu.Lock()
	c.files++
	c.events += n
	c.mu.Unlock()
}
func (c *countObserver) BlobArchived(int64) { c.mu.Lock(); c.blobs++; c.mu.Unlock() }
func (c *countObserver) UploadFailed()      { c.mu.Lock(); c.failed++; c.mu.Unlock() }

// TestFailedUploadLeavesNothing breaks uploads halfway: nothing becomes
// visible, the watermark stays, and the retry after the backoff writes the
// file.
func TestFailedUploadLeavesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	inner, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	fb := &failingBucket{Bucket: inner, prefix: EventsPrefix}
	f := newFleet(t, t.TempDir())
	f.grow(t, 50, "a")
	a := f.archiver(t, fb, 100)
	obs := &countObserver{}
	a.cfg.Observer = obs
	f.sink.clk.Advance(time.Minute)
	if n, err := a.RunOnce(context.Background()); n != 0 || err == nil {
		t.Fatalf("RunOnce with failing uploads: %d files, %v", n, err)
	}
	if obs.failed != 3 || len(a.Watermarks()) != 0 {
		t.Fatalf("%d failures counted, watermarks %v", obs.failed, a.Watermarks())
	}
	if _, err := os.Stat(filepath.Join(root, "events")); err == nil {
		entries := 0
		_ = filepath.WalkDir(filepath.Join(root, "events"), func(p string, d os.DirEntry, _ error) error {
			if !d.IsDir() {
				entries++
				t.Errorf("left behind: %s", p)
			}
			return nil
		})
	}
	// Within the backoff nothing is tried; after it, everything lands.
	fb.prefix = ""
	if n, _ := a.RunOnce(context.Background()); n != 0 {
		t.Fatalf("%d files written during the backoff", n)
	}
	f.sink.clk.Advance(a.cfg.RetryMin)
	if n, err := a.RunOnce(context.Background()); n != 3 || err != nil {
		t.Fatalf("retry: %d files, %v", n, err)
	}
	if obs.files != 3 || obs.events != 150 {
		t.Fatalf("observer: %+v", obs)
	}
	checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData)
}

// TestFilesCloseByRowsAndAge drives the clock: a file closes when it is
// full, or once its oldest event is Age old, not before.
func TestFilesCloseByRowsAndAge(t *testing.T) {
	b, err := OpenBucket(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t, t.TempDir())
	a := f.archiver(t, b, 100)
	defer a.Close()
	ctx := context.Background()
	f.sink.ingest(t, 10, 0, "a", nil)
	run := func(want int) {
		t.Helper()
		if n, err := a.RunOnce(ctx); n != want || err != nil {
			t.Fatalf("RunOnce: %d files, %v; want %d", n, err, want)
		}
	}
	run(0)
	f.sink.clk.Advance(29 * time.Second)
	run(0)
	f.sink.clk.Advance(time.Second)
	run(1)
	f.sink.ingest(t, 250, 10, "a", nil) // two full files at once, 50 wait
	run(1)
	run(1)
	run(0)
	if a.Watermarks()[f.sink.id] != 210 {
		t.Fatalf("watermark %d, want 210", a.Watermarks()[f.sink.id])
	}
	f.sink.clk.Advance(30 * time.Second)
	run(1)
	if a.Watermarks()[f.sink.id] != 260 {
		t.Fatalf("watermark %d, want 260", a.Watermarks()[f.sink.id])
	}
}

// TestMissingBlobHoldsTheWatermark references a blob the sink does not
// hold: the events before it are archived, the rest wait until a fetch
// brings it.
func TestMissingBlobHoldsTheWatermark(t *testing.T) {
	root := t.TempDir()
	b, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t, t.TempDir())
	data := []byte("a blob only a peer has")
	c := f.devices[0].putBlob(t, data)
	f.blobData[c.String()] = data
	f.sink.ingest(t, 20, 0, "a", map[int]cid.Cid{12: c})
	a := f.archiver(t, b, 100)
	defer a.Close()
	fetched := false
	a.cfg.Fetch = func(ctx context.Context, want cid.Cid) error {
		if !fetched {
			return errors.New("no peer has it (test)")
		}
		_, _, err := f.sink.blobs.Put(ctx, bytes.NewReader(data), 1<<20)
		return err
	}
	f.sink.clk.Advance(time.Minute)
	if n, err := a.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("first run: %d files, %v", n, err)
	}
	if wm := a.Watermarks()[f.sink.id]; wm != 12 {
		t.Fatalf("watermark %d, want 12 (the event at 13 references the missing blob)", wm)
	}
	if n, err := a.RunOnce(context.Background()); n != 0 || !errors.Is(err, ErrBlobMissing) {
		t.Fatalf("second run: %d files, %v", n, err)
	}
	fetched = true
	f.sink.clk.Advance(time.Minute) // past the backoff
	if n, err := a.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("after the fetch: %d files, %v", n, err)
	}
	checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData)
}
