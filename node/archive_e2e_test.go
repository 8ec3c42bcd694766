package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/internal/duckdb"
)

// End-to-end tests of a real sink (its archiver writing Parquet into a
// directory) with devices that prune behind it, on loopback libp2p. The
// archive is read back with DuckDB (internal/duckdb).

// logBuffer collects a node's logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logTo sends a node's logs to buf (and to stderr with RUMOR_TEST_LOG).
func logTo(buf *logBuffer) func(*Config) {
	return func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(buf, logSink()), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
}

func logSink() io.Writer {
	if os.Getenv("RUMOR_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// archivingSink is a sink archiving into the directory root, closing a
// file after rows events or 50 ms, and gossiping its watermark every
// 100 ms.
func archivingSink(root string, rows int) func(*Config) {
	return func(c *Config) {
		c.Role, c.Archive, c.ArchiveRows, c.ArchiveAge = RoleSink, "file://"+root, rows, 50*time.Millisecond
		c.Retention.WatermarkInterval = 100 * time.Millisecond
	}
}

// pruning runs retention passes every 100 ms in the background.
func pruning(retain time.Duration, maxDisk int64) func(*Config) {
	return func(c *Config) {
		c.Retention.Retain, c.Retention.MaxDisk = retain, maxDisk
		c.Retention.Interval = 100 * time.Millisecond
	}
}

func both(fs ...func(*Config)) func(*Config) {
	return func(c *Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

// emitAt ingests batches requests of per events on tn, stamped ts.
func emitAt(t *testing.T, tn *testNode, batches, per int, ts int64) {
	t.Helper()
	for i := 0; i < batches; i++ {
		in := make([]event.Input, per)
		for j := range in {
			in[j] = event.Input{Type: "reading", Schema: 1, TS: ts + int64(j), HasTS: true,
				Payload: json.RawMessage(fmt.Sprintf(`{"value":%d}`, j))}
		}
		if _, err := tn.Store().Ingest(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}

// floorWatch checks, until stopped, that no device's floor of any origin
// is ever above the sink's archived watermark. It reads the floors before
// the watermark, which only rises, so it cannot report a false violation.
type floorWatch struct {
	stop    chan struct{}
	done    chan struct{}
	samples int
	bad     []string
}

func watchFloors(s *testNode, devices ...*testNode) *floorWatch {
	w := &floorWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			for _, d := range devices {
				floors := d.Store().Floors()
				wm := s.Archiver().Watermarks()
				for o, f := range floors {
					if f > wm[o] {
						w.bad = append(w.bad, fmt.Sprintf("%s's floor of %s is %d, archived %d", d.ID(), o, f, wm[o]))
					}
				}
			}
			w.samples++
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *floorWatch) check(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	if len(w.bad) > 0 {
		t.Fatalf("a floor went above the archived watermark (%d times): %s", len(w.bad), w.bad[0])
	}
	t.Logf("floors sampled %d times, never above the archived watermark", w.samples)
}

type statusRetention struct {
	Retention api.Retention `json:"retention"`
}

// archivedOver reports what n's API says of the archive: the archived
// watermarks in /v1/status, and each device's archived_seq in /v1/health.
func archivedOver(t *testing.T, n *testNode) (status, health map[string]uint64) {
	t.Helper()
	var st statusRetention
	getOK(t, n.url+"/v1/status", &st)
	var h gossip.Health
	getOK(t, n.url+"/v1/health", &h)
	health = map[string]uint64{}
	for _, d := range h.Devices {
		if d.ArchivedSeq > 0 {
			health[d.DeviceID] = d.ArchivedSeq
		}
	}
	return st.Retention.Archived, health
}

func metricsText(t *testing.T, n *testNode) string {
	t.Helper()
	resp, err := http.Get(n.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkNothingLost checks, for every origin of want (its highest seq),
// that the archive holds 1..m exactly once and n holds every event above
// its floor up to the origin's max, with the floor within the archive.
func checkNothingLost(t *testing.T, n *testNode, arch map[string]duckdb.Origin, want map[string]uint64) {
	t.Helper()
	for o, max := range want {
		a := arch[o]
		if a.Rows > 0 && !a.Contiguous() {
			t.Fatalf("archive of %s: %+v, not seqs 1..max once each", o, a)
		}
		f := n.Store().Floor(o)
		if f > a.Max {
			t.Fatalf("%s pruned %s up to %d, the archive holds up to %d", n.ID(), o, f, a.Max)
		}
		held := heldEvents(t, n, o)
		if uint64(len(held)) != max-f || (len(held) > 0 && (held[0].Seq != f+1 || held[len(held)-1].Seq != max)) {
			t.Fatalf("%s holds %d events of %s above its floor %d, want %d", n.ID(), len(held), o, f, max-f)
		}
	}
}

// TestDevicesPruneBehindARealSink runs a sink archiving into a directory
// and two devices: a keeps a day (--retain 24h) and b has an 8 MiB disk
// budget. The devices learn the sink's watermark by gossip (status and
// health over HTTP) and prune only below it, at every moment and in the
// end, checked against the archive's files as DuckDB reads them; once the
// sink is down, a keeps its old unarchived events and b, over budget, says
// that it cannot meet it.
func TestDevicesPruneBehindARealSink(t *testing.T) {
	if testing.Short() {
		t.Skip("archive end-to-end test in -short mode")
	}
	root := filepath.Join(t.TempDir(), "archive")
	duckdb.Dir(t) // skip early without DuckDB
	var blogs logBuffer
	a := startTestNode(t, "", pruning(24*time.Hour, 0))
	b := startTestNode(t, "", both(pruning(0, 8<<20), logTo(&blogs)), a.addr(t))
	s := startTestNode(t, "", archivingSink(root, 200), a.addr(t))
	watch := watchFloors(s, a, b)

	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	emitAt(t, a, 3, 100, old)                   // 300 events two days old
	emitAt(t, a, 1, 50, time.Now().UnixMilli()) // 50 recent ones
	emitLarge(t, b, 500, 4000)                  // about 2 MB, within b's budget
	want := map[string]uint64{a.ID(): 350, b.ID(): 500}
	waitFor(t, 30*time.Second, "the sink to archive every event", func() bool {
		wm := s.Archiver().Watermarks()
		return wm[a.ID()] == 350 && wm[b.ID()] == 500
	})
	for _, d := range []*testNode{a, b} {
		waitFor(t, 15*time.Second, "the devices to learn the watermark by gossip", func() bool {
			st, h := archivedOver(t, d)
			return maps.Equal(st, want) && maps.Equal(h, want)
		})
	}
	waitFor(t, 15*time.Second, "a to prune its old events", func() bool { return a.Store().Floor(a.ID()) == 300 })
	if n := len(heldEvents(t, a, a.ID())); n != 50 {
		t.Fatalf("a holds %d of its events, want the 50 within a day", n)
	}
	if f := a.Store().Floor(b.ID()); f != 0 {
		t.Fatalf("a pruned b's recent events up to %d", f)
	}

	// The sink goes down; the devices keep recording.
	s.stop()
	emitAt(t, a, 2, 100, old+1000) // old, but not archived
	emitLarge(t, b, 2300, 4000)    // about 9.4 MB: over b's budget even without the archived part
	want = map[string]uint64{a.ID(): 550, b.ID(): 2800}
	waitFor(t, 30*time.Second, "a and b to converge", func() bool { return converged([]*testNode{a, b}, 550+2800) })
	waitFor(t, 15*time.Second, "b to report the budget it cannot meet", func() bool {
		var st statusRetention
		getOK(t, b.url+"/v1/status", &st)
		lp := st.Retention.LastPass
		return lp != nil && lp.Blocked && lp.UnarchivedEvents == 200+2300 && b.Store().Floor(b.ID()) == 500
	})
	rep, err := a.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Store().Floor(a.ID()) != 300 || rep.Plan.Unarchived != 200+2300 {
		t.Fatalf("a's pass without the sink: %+v, floor %d", rep.Plan, a.Store().Floor(a.ID()))
	}
	watch.check(t)

	m := metricsText(t, b)
	for _, w := range []string{"rumor_retention_blocked 1", "rumor_unarchived_events 2500"} {
		if !strings.Contains(m, w) {
			t.Errorf("b's metrics lack %q", w)
		}
	}
	if !strings.Contains(blogs.String(), "disk budget cannot be met") {
		t.Errorf("b's logs do not say the budget cannot be met:\n%s", blogs.String())
	}
	arch := duckdb.Archived(t, root)
	if arch[a.ID()].Max != 350 || arch[b.ID()].Max != 500 || len(arch) != 2 {
		t.Fatalf("archive: %+v", arch)
	}
	for _, d := range []*testNode{a, b} {
		checkNothingLost(t, d, arch, want)
	}
}

// tracedBelowFloor returns the first range n's trace (sessions, and
// pushes) shows it received at or below its floor of that origin in a
// record that started after since, "" if none.
func tracedBelowFloor(t *testing.T, n *testNode, since time.Time) string {
	t.Helper()
	var tr api.TraceList
	getOK(t, n.url+"/v1/trace?limit=1000", &tr)
	floors := n.Store().Floors()
	for _, s := range tr.Sessions {
		if s.Started.Before(since) {
			continue
		}
		for _, r := range s.Ranges {
			if r.From <= floors[r.Origin] {
				return fmt.Sprintf("session %s with %s brought %s %d-%d, floor %d", s.ID, s.Peer, r.Origin, r.From, r.To, floors[r.Origin])
			}
		}
	}
	for _, p := range n.Replicator().Pushes() {
		if p.Started.Before(since) {
			continue
		}
		for _, r := range p.Ranges {
			if r.From <= floors[r.Origin] {
				return fmt.Sprintf("a push from %s brought %s %d-%d, floor %d", p.Peer, r.Origin, r.From, r.To, floors[r.Origin])
			}
		}
	}
	return ""
}

// TestSnapshotJoinBehindARealSink: two devices keep a day of events and
// have pruned the older ones behind a real sink; a fresh device with
// --retain 24h joins from a snapshot. It ends with the same causal context
// and aggregates as its neighbours, holds only the events within the day,
// and its trace shows that it never pulled a pruned event; neither did
// the devices that pruned.
func TestSnapshotJoinBehindARealSink(t *testing.T) {
	if testing.Short() {
		t.Skip("archive end-to-end test in -short mode")
	}
	root := filepath.Join(t.TempDir(), "archive")
	a := startTestNode(t, "", pruning(24*time.Hour, 0))
	b := startTestNode(t, "", pruning(24*time.Hour, 0), a.addr(t))
	s := startTestNode(t, "", archivingSink(root, 150), a.addr(t))
	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	// A node prunes down to a seal it holds, and one sync run carries one
	// seal: the old events spread before the recent ones come, so that
	// every node holds a seal where the day begins.
	emitAt(t, a, 4, 100, old)
	emitAt(t, b, 2, 100, old+500)
	waitFor(t, 20*time.Second, "the old events to spread", func() bool { return converged([]*testNode{a, b, s}, 600) })
	emitAt(t, a, 1, 40, time.Now().UnixMilli())
	emitAt(t, b, 2, 30, time.Now().UnixMilli())
	waitFor(t, 20*time.Second, "both devices to prune their old events", func() bool {
		return a.Store().Floor(a.ID()) == 400 && a.Store().Floor(b.ID()) == 200 &&
			b.Store().Floor(a.ID()) == 400 && b.Store().Floor(b.ID()) == 200
	})
	pruned := time.Now()

	var jlogs logBuffer
	j := startTestNode(t, "", both(retentionNode(24*time.Hour, 0), logTo(&jlogs)), a.addr(t))
	if !strings.Contains(jlogs.String(), "joined from a neighbour's snapshot") {
		t.Fatalf("the new device did not join from a snapshot:\n%s", jlogs.String())
	}
	all := []*testNode{a, b, s, j}
	waitFor(t, 20*time.Second, "the joiner to converge", func() bool { return converged(all, 440+260) })
	for _, n := range []*testNode{a, b} {
		stateOfNode(t, n).mustEqual(t, stateOfNode(t, j), "the joiner against "+n.ID())
	}
	if f := j.Store().Floors(); f[a.ID()] != 400 || f[b.ID()] != 200 {
		t.Fatalf("the joiner's floors: %v", f)
	}
	if na, nb := len(heldEvents(t, j, a.ID())), len(heldEvents(t, j, b.ID())); na != 40 || nb != 60 {
		t.Fatalf("the joiner holds %d of a's and %d of b's events, want the 40 and 60 of the last day", na, nb)
	}

	// Later events reach everyone, the joiner's too; nobody pulls back
	// what it pruned or skipped.
	emitAt(t, j, 1, 25, time.Now().UnixMilli())
	emitAt(t, b, 1, 5, time.Now().UnixMilli())
	waitFor(t, 20*time.Second, "the mesh to converge after the join", func() bool { return converged(all, 440+265+25) })
	waitFor(t, 20*time.Second, "the sink to archive the joiner's events", func() bool { return s.Archiver().Watermarks()[j.ID()] == 25 })
	for _, n := range []*testNode{a, b} {
		stateOfNode(t, n).mustEqual(t, stateOfNode(t, j), "the joiner against "+n.ID()+", later")
	}
	if n := len(heldEvents(t, j, b.ID())); n != 65 {
		t.Fatalf("the joiner holds %d of b's events, want 65", n)
	}
	for _, n := range []*testNode{a, b, j} {
		if why := tracedBelowFloor(t, n, pruned); why != "" {
			t.Fatalf("%s pulled a pruned event back: %s", n.ID(), why)
		}
	}
	arch := duckdb.Archived(t, root)
	for o, want := range map[string]uint64{a.ID(): 440, b.ID(): 265, j.ID(): 25} {
		if got := arch[o]; !got.Contiguous() || got.Max != want {
			t.Fatalf("archive of %s: %+v, want 1..%d", o, got, want)
		}
	}
}

// sinksOnly starts a node with the blob policy sinks-only.
func sinksOnly(c *Config) {
	s := policy.Defaults()
	s.SyncInterval, s.BlobPolicy = 200*time.Millisecond, policy.SinksOnly
	c.Switches = &policy.Resolved{Settings: s, Sources: map[string]policy.Source{policy.KeyBlobPolicy: policy.SourceFlag}}
}

// blobRow is an archived event's blobs as DuckDB reads them.
type blobRow struct {
	Seq   uint64   `json:"seq,string"`
	Blobs []string `json:"blobs"`
}

// TestSinksOnlyBlobReachesTheArchive: with the blob policy sinks-only, a
// blob of one device reaches the sink, which knows the device only through
// membership (its one static peer, another device, does not fetch it), and
// the archive's blobs/<cid>; the event's row lists it. Once the event is
// archived and pruned, the device frees the blob and gets it back on demand
// from the sink.
func TestSinksOnlyBlobReachesTheArchive(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	d1 := startTestNode(t, "", both(sinksOnly, retentionNode(time.Millisecond, 0)))
	d2 := startTestNode(t, "", sinksOnly, d1.addr(t))
	s := startTestNode(t, "", both(sinksOnly, archivingSink(root, 100)), d2.addr(t))

	data := bytes.Repeat([]byte("a photo of the north door, "), 60_000) // 1.6 MB: a root and two chunks
	c, _, err := d1.Blobs().Put(context.Background(), bytes.NewReader(data), 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	d1.emit(t, 10, "door.open")
	d1.emitOne(t, "photo", c)
	waitFor(t, 20*time.Second, "the sink to archive the event and its blob", func() bool {
		return s.Archiver().Watermarks()[d1.ID()] == 11
	})
	got, err := os.ReadFile(filepath.Join(root, "blobs", c.String()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("archived blob: %d bytes, %v", len(got), err)
	}
	if !whole(s, c) || s.Replicator().Counters().EagerBlobFetches == 0 {
		t.Fatal("the sink did not fetch the blob by itself")
	}
	waitFor(t, 10*time.Second, "the event on d2", func() bool { return converged([]*testNode{d1, d2, s}, 11) })
	if whole(d2, c) || d2.Replicator().Counters().EagerBlobFetches != 0 {
		t.Fatal("a sinks-only device fetched the blob")
	}
	rows := duckdb.Query[blobRow](t, "SELECT seq, blobs FROM "+duckdb.Events(root)+" WHERE device_id = '"+d1.ID()+"' AND len(blobs) > 0")
	if len(rows) != 1 || rows[0].Seq != 11 || len(rows[0].Blobs) != 1 || rows[0].Blobs[0] != c.String() {
		t.Fatalf("archived rows with blobs: %+v", rows)
	}

	waitFor(t, 10*time.Second, "d1 to learn the watermark", func() bool { return d1.Replicator().Archived()[d1.ID()] == 11 })
	time.Sleep(2 * time.Millisecond) // every event older than the 1 ms window
	rep, err := d1.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pruned.Floors[d1.ID()] != 11 || rep.BlobsFreed != 1 || whole(d1, c) {
		t.Fatalf("d1's pass: floors %v, %d blobs freed", rep.Pruned.Floors, rep.BlobsFreed)
	}
	resp, err := http.Get(d1.url + "/v1/blobs/" + c.String())
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(back, data) {
		t.Fatalf("the pruned blob on demand: %d, %d bytes", resp.StatusCode, len(back))
	}
}

// TestSinkPrunesOnlyWhatItArchived: a sink with a retention window of its
// own prunes only what its own archive holds, not what another sink
// archived first: otherwise its archive would keep a hole forever.
func TestSinkPrunesOnlyWhatItArchived(t *testing.T) {
	fast, slow := filepath.Join(t.TempDir(), "fast"), filepath.Join(t.TempDir(), "slow")
	d := startTestNode(t, "", nil)
	s1 := startTestNode(t, "", archivingSink(fast, 100), d.addr(t))
	s2 := startTestNode(t, "", both(archivingSink(slow, 100_000), pruning(time.Millisecond, 0), func(c *Config) {
		c.ArchiveAge = time.Second // files close late: s1 archives first
	}), d.addr(t))
	d.emit(t, 50, "door.open")
	waitFor(t, 10*time.Second, "the fast sink to archive", func() bool { return s1.Archiver().Watermarks()[d.ID()] == 50 })
	waitFor(t, 10*time.Second, "the slow sink to learn it", func() bool { return s2.Replicator().Archived()[d.ID()] == 50 })
	time.Sleep(2 * time.Millisecond) // every event older than the window
	if _, err := s2.RetentionPass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := s2.Store().Floor(d.ID()); f > s2.Archiver().Watermarks()[d.ID()] {
		t.Fatalf("the slow sink pruned up to %d before archiving", f)
	}
	waitFor(t, 10*time.Second, "the slow sink to archive", func() bool { return s2.Archiver().Watermarks()[d.ID()] == 50 })
	waitFor(t, 10*time.Second, "the slow sink to prune what it archived", func() bool { return s2.Store().Floor(d.ID()) == 50 })
	if a := duckdb.Archived(t, slow)[d.ID()]; !a.Contiguous() || a.Max != 50 {
		t.Fatalf("the slow sink's archive: %+v", a)
	}
}
