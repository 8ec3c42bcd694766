package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/store"
)

// watermarkSource is a sink's archived watermark as a test sets it: the
// integration test with a real sink archiver replaces it.
type watermarkSource struct {
	mu sync.Mutex
	wm map[string]uint64
}

func (w *watermarkSource) set(wm map[string]uint64) {
	w.mu.Lock()
	w.wm = maps.Clone(wm)
	w.mu.Unlock()
}

func (w *watermarkSource) get() map[string]uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.wm)
}

// retentionNode configures manual retention passes (a long interval) and
// a fast watermark gossip.
func retentionNode(retain time.Duration, maxDisk int64) func(*Config) {
	return func(c *Config) {
		c.Retention.Retain, c.Retention.MaxDisk = retain, maxDisk
		c.Retention.Interval = time.Hour
		c.Retention.WatermarkInterval = 100 * time.Millisecond
	}
}

func sinkNode(src *watermarkSource) func(*Config) {
	return func(c *Config) {
		c.Role = RoleSink
		c.Retention.Watermarks = src.get
		c.Retention.WatermarkInterval = 100 * time.Millisecond
	}
}

// emitBatches ingests batches requests of per events: one seal each.
func emitBatches(t *testing.T, n *testNode, batches, per int, typ string) {
	t.Helper()
	for i := 0; i < batches; i++ {
		n.emit(t, per, typ)
	}
}

type nodeState struct {
	digest [32]byte
	events uint64
	aggs   []store.AggRow
}

func stateOfNode(t *testing.T, n *testNode) nodeState {
	t.Helper()
	sum := n.Store().Summary()
	st := nodeState{digest: sum.Digest, events: sum.Events}
	for _, w := range crdt.Windows {
		rows, err := n.Store().Aggregates("", w, -1<<62, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		st.aggs = append(st.aggs, rows...)
	}
	return st
}

func (s nodeState) mustEqual(t *testing.T, o nodeState, what string) {
	t.Helper()
	if s.digest != o.digest || s.events != o.events || len(s.aggs) != len(o.aggs) {
		t.Fatalf("%s: %d events, %d aggregates; want %d, %d", what, o.events, len(o.aggs), s.events, len(s.aggs))
	}
	for i := range s.aggs {
		if s.aggs[i].Key != o.aggs[i].Key || !s.aggs[i].Agg.Equal(o.aggs[i].Agg) {
			t.Fatalf("%s: aggregate %v differs", what, s.aggs[i].Key)
		}
	}
}

func heldEvents(t *testing.T, n *testNode, origin string) []*event.Event {
	t.Helper()
	var out []*event.Event
	if err := n.Store().Scan(store.Query{Device: origin}, func(e *event.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// getOK GETs url into v and fails unless it answers 200.
func getOK(t *testing.T, url string, v any) {
	t.Helper()
	if code := getJSON(t, url, v); code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
}

// A device prunes only what a sink archived: a device member that claims
// an archive is not listened to, what no sink archived stays, the context
// and the aggregates do not change, the pruned events never come back, and
// a new node gets them from the sink instead.
func TestRetentionPrunesOnlyWhatASinkArchived(t *testing.T) {
	archive, liar := &watermarkSource{}, &watermarkSource{}
	a := startTestNode(t, "", retentionNode(time.Millisecond, 0))
	s := startTestNode(t, "", sinkNode(archive), a.addr(t))
	d := startTestNode(t, "", func(c *Config) {
		c.Retention.Watermarks = liar.get // a device: its claims must be ignored
		c.Retention.WatermarkInterval = 100 * time.Millisecond
	}, a.addr(t))
	emitBatches(t, a, 3, 100, "door.open")
	waitFor(t, 15*time.Second, "the mesh to converge", func() bool { return converged([]*testNode{a, s, d}, 300) })
	liar.set(map[string]uint64{a.ID(): 300})
	archive.set(map[string]uint64{a.ID(): 200})
	waitFor(t, 15*time.Second, "the sink's watermark to reach a", func() bool { return a.Replicator().Archived()[a.ID()] == 200 })
	waitFor(t, 15*time.Second, "the device's claim to be refused", func() bool {
		for _, byReason := range a.Replicator().Rejections() {
			if byReason["not_a_sink"] > 0 {
				return true
			}
		}
		return false
	})
	before := stateOfNode(t, a)
	time.Sleep(2 * time.Millisecond) // every event older than the 1 ms window
	rep, err := a.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pruned.Floors[a.ID()] != 200 || rep.Pruned.Events != 200 || rep.Plan.Unarchived != 100 {
		t.Fatalf("retention pass %+v", rep)
	}
	if held := heldEvents(t, a, a.ID()); len(held) != 100 || held[0].Seq != 201 {
		t.Fatalf("a holds %d events", len(held))
	}
	before.mustEqual(t, stateOfNode(t, a), "after the prune")
	if a.Replicator().Archived()[a.ID()] != 200 {
		t.Fatal("the liar's claim was taken")
	}

	var health gossip.Health
	getOK(t, a.url+"/v1/health", &health)
	var dh gossip.DeviceHealth
	for _, x := range health.Devices {
		if x.DeviceID == a.ID() {
			dh = x
		}
	}
	if dh.ArchivedSeq != 200 || dh.PrunedSeq != 200 || dh.Events != 300 || dh.Completeness != 1 {
		t.Fatalf("health of a: %+v", dh)
	}
	var st struct {
		Retention api.Retention `json:"retention"`
	}
	getOK(t, a.url+"/v1/status", &st)
	r := st.Retention
	if r.Archived[a.ID()] != 200 || r.Pruned[a.ID()] != 200 || r.LastPass == nil || r.LastPass.PrunedEvents != 200 {
		t.Fatalf("status retention %+v", r)
	}
	if len(r.Sinks) != 1 || r.Sinks[0].ID != s.ID() || !r.Sinks[0].Member || r.Sinks[0].Watermarks[a.ID()] != 200 {
		t.Fatalf("status sinks %+v", r.Sinks)
	}

	// A new node that knows only a: a never offers what it pruned, the
	// sink hands the rest over.
	f := startTestNode(t, "", nil, a.addr(t))
	waitFor(t, 20*time.Second, "the new node to hold all 300 events", func() bool {
		return len(heldEvents(t, f, a.ID())) == 300
	})
	emitBatches(t, a, 1, 10, "door.open")
	waitFor(t, 15*time.Second, "the mesh to converge again", func() bool { return converged([]*testNode{a, s, d, f}, 310) })
	for _, rec := range append(a.Replicator().Sessions(), a.Replicator().Pushes()...) {
		if rec.EventsIn > 0 {
			t.Fatalf("a pulled %d events back in session %s", rec.EventsIn, rec.ID)
		}
	}
	if _, err := a.Store().Get(crdt.Dot{Origin: a.ID(), Seq: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a pruned event came back: %v", err)
	}
	if a.Store().Floor(a.ID()) != 200 {
		t.Fatal("the floor moved")
	}
}

// Nothing is pruned while no sink archived anything, however old and
// however full the disk; the node says why.
func TestRetentionNeverPrunesUnarchived(t *testing.T) {
	a := startTestNode(t, "", retentionNode(time.Millisecond, 8<<20))
	b := startTestNode(t, "", nil, a.addr(t))
	emitLarge(t, a, 10_000, 1000) // ~10 MB: over the budget
	waitFor(t, 20*time.Second, "b to hold a's events", func() bool { return b.Store().Summary().Events == 10_000 })
	time.Sleep(2 * time.Millisecond)
	rep, err := a.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Plan.Below) != 0 || rep.Pruned.Events != 0 || !rep.Plan.Blocked || rep.Plan.Unarchived != 10_000 {
		t.Fatalf("pass without an archive: %+v", rep.Plan)
	}
	if n := len(heldEvents(t, a, a.ID())); n != 10_000 {
		t.Fatalf("a holds %d events", n)
	}
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"rumor_retention_blocked 1", "rumor_unarchived_events 10000", "rumor_pruned_events_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// emitLarge ingests n events of about size bytes in requests of 500.
func emitLarge(t *testing.T, tn *testNode, n, size int) {
	t.Helper()
	pad := strings.Repeat("x", size)
	for done := 0; done < n; {
		k := min(500, n-done)
		in := make([]event.Input, k)
		for i := range in {
			in[i] = event.Input{Type: "bulk", Schema: 1, Payload: json.RawMessage(fmt.Sprintf(`{"value":%d,"pad":%q}`, done+i, pad))}
		}
		if _, err := tn.Store().Ingest(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

// The disk budget is met by pruning archived events only, oldest first,
// and the data directory shrinks below it (measured).
func TestRetentionMeetsTheDiskBudget(t *testing.T) {
	const budget = 16 << 20
	archive := &watermarkSource{}
	a := startTestNode(t, "", retentionNode(0, budget)) // no age limit: only the budget
	s := startTestNode(t, "", sinkNode(archive), a.addr(t))
	emitLarge(t, a, 30_000, 1000) // ~32 MB
	waitFor(t, 30*time.Second, "the sink to hold a's events", func() bool { return s.Store().Summary().Events == 30_000 })
	archive.set(map[string]uint64{a.ID(): 30_000})
	waitFor(t, 15*time.Second, "the watermark to reach a", func() bool { return a.Replicator().Archived()[a.ID()] == 30_000 })
	before, err := dirBytes(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	state := stateOfNode(t, a)
	rep, err := a.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pass: plan %+v, pruned %d events, %d segments (%d bytes)", rep.Plan, rep.Pruned.Events, rep.Pruned.Segments, rep.Pruned.SegmentBytes)
	after, err := dirBytes(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("data dir %d bytes before, %d after (budget %d); floor %d", before, after, budget, a.Store().Floor(a.ID()))
	if before <= budget || after > budget {
		t.Fatalf("data dir %d bytes before, %d after: budget %d not met", before, after, budget)
	}
	held := heldEvents(t, a, a.ID())
	if len(held) == 0 || held[len(held)-1].Seq != 30_000 || held[0].Seq != a.Store().Floor(a.ID())+1 {
		t.Fatalf("a holds %d events, the newest %d", len(held), held[len(held)-1].Seq)
	}
	if len(held) < 5_000 {
		t.Fatalf("pruned far more than the budget needed: %d events left", len(held))
	}
	state.mustEqual(t, stateOfNode(t, a), "after pruning to the budget")
}

// A fresh device with a retention window joins from a neighbour's
// snapshot: it adopts the context and the aggregates, holds only the
// events within the window, converges with the mesh, and aggregates what
// comes later on top.
func TestSnapshotJoinConverges(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	for i := 0; i < 20; i++ { // 2,000 old events from a, 2 days ago
		in := make([]event.Input, 100)
		for j := range in {
			in[j] = event.Input{Type: "reading", Schema: 1, TS: old + int64(i*100+j), HasTS: true,
				Payload: json.RawMessage(fmt.Sprintf(`{"value":%d}`, j))}
		}
		if _, err := a.Store().Ingest(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	emitBatches(t, a, 2, 50, "reading") // 100 recent
	emitBatches(t, b, 3, 40, "reading") // 120 recent from b
	waitFor(t, 20*time.Second, "a and b to converge", func() bool { return converged([]*testNode{a, b}, 2220) })

	// b goes down, so that the joiner's only neighbour is a, which holds a
	// seal at every 100 of its own events: the floor is exactly 2,000.
	b.stop()
	j := startTestNode(t, "", retentionNode(24*time.Hour, 0), a.addr(t))
	b = startTestNode(t, b.dir, nil, a.addr(t))
	waitFor(t, 20*time.Second, "the joiner to converge", func() bool { return converged([]*testNode{a, b, j}, 2220) })
	stateOfNode(t, a).mustEqual(t, stateOfNode(t, j), "joiner")
	if n := len(heldEvents(t, j, a.ID())); n != 100 {
		t.Fatalf("the joiner holds %d of a's events, want the 100 within the window", n)
	}
	if n := len(heldEvents(t, j, b.ID())); n != 120 {
		t.Fatalf("the joiner holds %d of b's events", n)
	}
	if f := j.Store().Floor(a.ID()); f != 2000 {
		t.Fatalf("the joiner's floor of a is %d", f)
	}
	emitBatches(t, b, 1, 10, "reading")
	emitBatches(t, j, 1, 10, "reading")
	waitFor(t, 20*time.Second, "the mesh to converge after the join", func() bool { return converged([]*testNode{a, b, j}, 2240) })
	stateOfNode(t, a).mustEqual(t, stateOfNode(t, j), "joiner, later")
	stateOfNode(t, b).mustEqual(t, stateOfNode(t, j), "joiner and b, later")
}

// A sink's watermarks survive a restart of a device that learnt them.
func TestWatermarksPersistAcrossRestart(t *testing.T) {
	archive := &watermarkSource{}
	dir := t.TempDir()
	a := startTestNode(t, dir, retentionNode(0, 0))
	s := startTestNode(t, "", sinkNode(archive), a.addr(t))
	archive.set(map[string]uint64{"12D3KooWsomeorigin": 42})
	waitFor(t, 15*time.Second, "the watermark to reach a", func() bool { return a.Replicator().Archived()["12D3KooWsomeorigin"] == 42 })
	a.stop()
	s.stop()
	a = startTestNode(t, dir, func(c *Config) { c.Offline = true })
	var st struct {
		Retention api.Retention `json:"retention"`
	}
	getOK(t, a.url+"/v1/status", &st)
	if st.Retention.Archived["12D3KooWsomeorigin"] != 42 || len(st.Retention.Sinks) != 1 || st.Retention.Sinks[0].ID != s.ID() {
		t.Fatalf("after a restart: %+v", st.Retention)
	}
}

// With --prune-when-all-have and no sink, a device prunes what every live
// member holds, learnt from its sessions with each; the others keep their
// copies.
func TestPruneWhenAllHave(t *testing.T) {
	a := startTestNode(t, "", func(c *Config) {
		retentionNode(time.Millisecond, 0)(c)
		c.Retention.PruneWhenAllHave = true
	})
	b := startTestNode(t, "", nil, a.addr(t))
	c := startTestNode(t, "", nil, a.addr(t))
	emitBatches(t, a, 3, 100, "x")
	emitBatches(t, b, 2, 50, "y")
	waitFor(t, 20*time.Second, "the mesh to converge", func() bool { return converged([]*testNode{a, b, c}, 400) })
	waitFor(t, 20*time.Second, "a to know what every member holds", func() bool {
		st, ok := a.Replicator().StableWatermark()
		return ok && st[a.ID()] == 300 && st[b.ID()] == 100
	})
	time.Sleep(2 * time.Millisecond)
	rep, err := a.RetentionPass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pruned.Floors[a.ID()] != 300 || rep.Pruned.Floors[b.ID()] != 100 || rep.Plan.Unarchived != 0 {
		t.Fatalf("pass %+v", rep)
	}
	if n := len(heldEvents(t, b, a.ID())); n != 300 {
		t.Fatalf("b holds %d of a's events", n)
	}
	if s := a.Store().Summary(); s.Events != 400 || s.Digest != b.Store().Summary().Digest {
		t.Fatal("pruning changed a's context")
	}
}
