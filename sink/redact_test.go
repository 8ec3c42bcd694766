package sink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// eventAt returns the event of n's store at device/seq, as stored.
func eventAt(t testing.TB, n *node, device string, seq uint64) *event.Event {
	t.Helper()
	e, err := n.st.Get(crdt.Dot{Origin: device, Seq: seq})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// redact redacts the event with id on n (its origin, or an operator).
func (n *node) redact(t testing.TB, id uuid.UUID) {
	t.Helper()
	if _, _, err := n.st.Redact(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// redactionFleet is a fleet archived once, with blobs: one referenced by a
// single event of dev2 (seq 103), one shared by two events of dev3.
func redactionFleet(t *testing.T, b Bucket) (*fleet, *Archiver, cid.Cid) {
	t.Helper()
	f := newFleet(t, t.TempDir())
	f.grow(t, 250, "a")
	dev3 := f.devices[1]
	data := []byte("a blob two events share")
	shared := dev3.putBlob(t, data)
	if _, _, err := f.sink.blobs.Put(context.Background(), bytes.NewReader(data), 1<<30); err != nil {
		t.Fatal(err)
	}
	f.blobData[shared.String()] = data
	dev3.ingest(t, 2, 250, "a", map[int]cid.Cid{250: shared, 251: shared}) // seqs 251, 252
	f.sink.from(t, dev3)
	a := f.archiver(t, b, 100)
	drain(t, a, f.sink.clk)
	if !sameWatermarks(a, f.sink.st) {
		t.Fatalf("watermarks %v, store %v", a.Watermarks(), f.sink.st.VersionVector())
	}
	return f, a, shared
}

// TestRedactionsInTheArchive: events redacted after they were archived
// are rewritten redacted in their file (same name) and recorded in the
// manifest with that file; their blobs leave the bucket unless another
// archived event references them; events redacted before they were
// archived (arriving redacted, or redacted while held whole) are archived
// redacted and recorded without a file. DuckDB reads it all back.
func TestRedactionsInTheArchive(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	b, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	f, a, shared := redactionFleet(t, b)
	defer a.Close()
	dev2, dev3 := f.devices[0], f.devices[1]
	ctx := context.Background()

	// Archived, then redacted: dev2's 103 (its own blob), dev3's 251 (a
	// shared blob), dev3's 40 (no blob) and the sink's own 7.
	own := eventAt(t, dev2, dev2.id, 103)
	if len(own.Blobs) != 1 {
		t.Fatalf("dev2/103 references %d blobs", len(own.Blobs))
	}
	before, _ := a.Files(FileQuery{Device: dev2.id})
	dev2.redact(t, own.ID)
	dev3.redact(t, eventAt(t, dev3, dev3.id, 251).ID)
	dev3.redact(t, eventAt(t, dev3, dev3.id, 40).ID)
	f.sink.redact(t, eventAt(t, f.sink, f.sink.id, 7).ID)
	f.sink.from(t, dev2)
	f.sink.from(t, dev3)
	if n, err := a.RunOnce(ctx); err != nil || n != 5 { // 4 files rewritten (dev2's, dev3's two, the sink's), 1 manifest
		t.Fatalf("RunOnce after the redactions: %d files, %v", n, err)
	}
	after, _ := a.Files(FileQuery{Device: dev2.id})
	if len(after) != len(before) || after[1].Name != before[1].Name || after[1].Bytes == before[1].Bytes {
		t.Fatalf("files of dev2 before %+v, after %+v", before, after)
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", own.Blobs[0].String())); !os.IsNotExist(err) {
		t.Fatalf("the redacted event's own blob is still archived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", shared.String())); err != nil {
		t.Fatalf("the shared blob left the archive: %v", err)
	}

	// Redacted before archiving: dev2's 254 reaches the sink redacted,
	// the sink's own 254 is redacted while held whole.
	dev2.ingest(t, 5, 300, "b", nil) // 252-256
	dev2.redact(t, eventAt(t, dev2, dev2.id, 254).ID)
	f.sink.from(t, dev2)
	f.sink.ingest(t, 5, 300, "b", nil) // 252-256
	f.sink.redact(t, eventAt(t, f.sink, f.sink.id, 254).ID)
	if n, err := a.RunOnce(ctx); err != nil || n != 1 { // the manifest; no file is due yet
		t.Fatalf("RunOnce before the files are due: %d files, %v", n, err)
	}
	drain(t, a, f.sink.clk)
	if !sameWatermarks(a, f.sink.st) {
		t.Fatalf("watermarks %v, store %v", a.Watermarks(), f.sink.st.VersionVector())
	}

	checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData)
	got := checkManifest(t, root, f.sink.st)
	wantFile := map[string]string{}
	for _, x := range []struct {
		n        *node
		seq      uint64
		archived bool
	}{{dev2, 103, true}, {dev3, 251, true}, {dev3, 40, true}, {f.sink, 7, true}, {dev2, 254, false}, {f.sink, 254, false}} {
		e := eventAt(t, f.sink, x.n.id, x.seq)
		if !e.Redacted() {
			t.Fatalf("%s/%d is not redacted on the sink", x.n.id, x.seq)
		}
		fl, ok := a.ix.fileOf(x.n.id, x.seq)
		if !ok {
			t.Fatalf("%s/%d is not archived", x.n.id, x.seq)
		}
		if x.archived {
			wantFile[x.n.id+"/"+e.ID.String()] = filepath.Join(root, filepath.FromSlash(fl.Name))
		} else {
			wantFile[x.n.id+"/"+e.ID.String()] = ""
		}
	}
	if len(got) != len(wantFile) {
		t.Fatalf("manifest %d rows, want %d", len(got), len(wantFile))
	}
	for k, want := range wantFile {
		r, ok := got[k]
		switch {
		case !ok:
			t.Fatalf("redaction of %s not in the manifest", k)
		case want == "" && r.ArchiveFile != nil:
			t.Fatalf("%s: recorded in %s, but it was not archived when redacted", k, *r.ArchiveFile)
		case want != "" && (r.ArchiveFile == nil || *r.ArchiveFile != filepath.ToSlash(want[len(root)+1:])):
			t.Fatalf("%s: recorded file %v, want %s", k, r.ArchiveFile, want)
		}
	}

	// Every file's bytes are still what archiving its range from the store
	// gives now: a rewritten file is exactly the file of the redacted events.
	files, _ := a.Files(FileQuery{})
	for _, fl := range files {
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
			t.Fatalf("%s differs from its range archived now (%d vs %d bytes)", fl.Name, len(again), len(disk))
		}
	}

	// A restart lists the manifest: nothing is recorded or rewritten again.
	a.Close()
	b2, err := OpenBucket(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	a2 := f.archiver(t, b2, 100)
	defer a2.Close()
	if n := drain(t, a2, f.sink.clk); n != 0 {
		t.Fatalf("a restart wrote %d files", n)
	}
	if ms, cursor := a2.Manifests(); len(ms) != 2 || cursor != 6 {
		t.Fatalf("recovered manifest %+v, cursor %d", ms, cursor)
	}
}

// TestRedactionManifestAfterLostDatabase: a sink whose database is lost
// (a new log) does not record again what the old log holds, and records
// what is new.
func TestRedactionManifestAfterLostDatabase(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	b, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	f, a, _ := redactionFleet(t, b)
	dev2 := f.devices[0]
	dev2.redact(t, eventAt(t, dev2, dev2.id, 10).ID)
	f.sink.from(t, dev2)
	drain(t, a, f.sink.clk)
	a.Close()

	// The same store, a new ledger (as if its keys were lost): a new log.
	fresh := t.TempDir()
	lost := openNode(t, fresh, 9, clock.NewManual(t0))
	defer lost.close(t)
	for _, d := range f.devices {
		lost.from(t, d)
	}
	lost.from(t, f.sink)
	dev2.redact(t, eventAt(t, dev2, dev2.id, 11).ID)
	lost.from(t, dev2)
	b2, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.cfg
	cfg.Bucket, cfg.Events, cfg.Blobs, cfg.Redactions = b2, lost.st, f.sink.blobs, lost.st
	cfg.Cache, cfg.Ledger = NewBadgerCache(lost.st.DB(), []byte{store.PrefixArchive}), NewLedger(lost.st.DB(), []byte{store.PrefixSinkState})
	a2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	drain(t, a2, f.sink.clk)
	rows := duckManifest(t, root)
	seen := map[uint64]int{}
	logs := map[string]bool{}
	for _, r := range rows {
		seen[r.Seq]++
		logs[r.Log] = true
	}
	if len(rows) != 2 || seen[10] != 1 || seen[11] != 1 || len(logs) != 2 {
		t.Fatalf("manifest after a lost database: %+v", rows)
	}
	_, archived := duckRead(t, root)
	redacted := 0
	for _, r := range archived {
		if r.DeviceID == dev2.id && (r.Seq == 10 || r.Seq == 11) {
			if !r.Redacted || r.Payload != "{}" {
				t.Fatalf("archived %+v", r)
			}
			redacted++
		}
	}
	if redacted != 2 {
		t.Fatalf("%d of dev2's redacted events archived", redacted)
	}
}

// TestFailedManifestUploadRetried breaks the manifest upload halfway:
// nothing of it is visible, the redaction step backs off, and the retry
// records the redaction once (the file it already rewrote is left alone).
func TestFailedManifestUploadRetried(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	inner, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	fb := &failingBucket{Bucket: inner}
	f, a, _ := redactionFleet(t, fb)
	defer a.Close()
	ctx := context.Background()
	dev2 := f.devices[0]
	dev2.redact(t, eventAt(t, dev2, dev2.id, 103).ID)
	f.sink.from(t, dev2)
	fb.prefix = RedactionsPrefix
	if n, err := a.RunOnce(ctx); err == nil || n != 1 { // the file is rewritten, the manifest fails
		t.Fatalf("RunOnce with a failing manifest upload: %d files, %v", n, err)
	}
	if keys := listKeys(t, inner, RedactionsPrefix); len(keys) != 0 {
		t.Fatalf("a failed manifest upload left %v", keys)
	}
	if _, cursor := a.Manifests(); cursor != 0 {
		t.Fatalf("cursor %d after a failed upload", cursor)
	}
	fb.prefix = ""
	if n, err := a.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("within the backoff: %d files, %v", n, err)
	}
	f.sink.clk.Advance(a.cfg.RetryMin)
	if n, err := a.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("retry: %d files, %v", n, err)
	}
	drain(t, a, f.sink.clk)
	checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData)
	if got := checkManifest(t, root, f.sink.st); len(got) != 1 {
		t.Fatalf("manifest %+v", got)
	}
}

// rowV1 is an archive row as written before the redaction columns.
type rowV1 struct {
	EventID    string    `parquet:"event_id"`
	DeviceID   string    `parquet:"device_id,dict"`
	Seq        int64     `parquet:"seq,delta"`
	TS         time.Time `parquet:"ts,timestamp(millisecond:utc)"`
	Type       string    `parquet:"type,dict"`
	Schema     int64     `parquet:"schema"`
	Payload    string    `parquet:"payload,json"`
	Blobs      []string  `parquet:"blobs,list"`
	ReceivedAt time.Time `parquet:"received_at,timestamp(millisecond:utc)"`
}

// TestRedactionInAnArchiveFromBefore: an archive written before the
// redaction columns and the Ledger (here: one file in the old layout, and
// a ledger that knows no blob references) is handled: the old file is
// rewritten with the columns, and the blob references are indexed from
// the files first, so a blob another archived row still references stays.
func TestRedactionInAnArchiveFromBefore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	b, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	f, a, shared := redactionFleet(t, b)
	a.Close()
	dev3 := f.devices[1]
	old, ok := a.ix.fileOf(dev3.id, 251)
	if !ok || old.Last != 252 {
		t.Fatalf("file of dev3/251: %+v", old)
	}
	var rows []rowV1
	if err := f.sink.st.ScanReceived(scanFrom(old.Device, old.First, int(old.Rows())), func(e *eventT, at int64) error {
		r := RowOf(e, at)
		rows = append(rows, rowV1{r.EventID, r.DeviceID, r.Seq, r.TS, r.Type, r.Schema, r.Payload, r.Blobs, r.ReceivedAt})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	data, err := encodeRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(old.Name)), data, 0o644); err != nil {
		t.Fatal(err)
	}

	dev3.redact(t, eventAt(t, dev3, dev3.id, 251).ID)
	f.sink.from(t, dev3)
	b2, err := OpenBucket(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.cfg
	cfg.Bucket, cfg.Ledger = b2, NewLedger(f.sink.st.DB(), []byte{store.PrefixSinkState, 'v', '1'})
	a2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	drain(t, a2, f.sink.clk)
	if complete, _ := cfg.Ledger.refsComplete(); !complete {
		t.Fatal("the blob references were not indexed")
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", shared.String())); err != nil {
		t.Fatalf("a blob an archived row references was deleted: %v", err)
	}
	checkArchive(t, root, f.sink.st, a2.Watermarks(), f.blobData)
	if got := checkManifest(t, root, f.sink.st); len(got) != 1 {
		t.Fatalf("manifest %+v", got)
	}
}
