package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/budget"
	"github.com/rumor-sync/rumor/gossip/policy"
)

// slowSync makes a node run anti-entropy rounds only every hour (the
// first one no sooner than 30 min after start).
func slowSync(c *Config) { c.SyncInterval = time.Hour }

// emitOne ingests one event on n and returns its id.
func (tn *testNode) emitOne(t *testing.T, typ string, blobs ...cid.Cid) string {
	t.Helper()
	acks, err := tn.Store().Ingest(context.Background(), []event.Input{{Type: typ, Schema: 1, Payload: json.RawMessage(`{"value":1}`), Blobs: blobs}})
	if err != nil {
		t.Fatal(err)
	}
	return acks[0].EventID.String()
}

// via returns how event id reached n ("push", "session", "local"), or ""
// while it is not there.
func (tn *testNode) via(t *testing.T, id string) string {
	t.Helper()
	resp, err := http.Get(tn.url + "/v1/trace?event_id=" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	var tr api.EventTrace
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	return tr.Via
}

func (tn *testNode) peerID(t *testing.T) peer.ID {
	t.Helper()
	p, err := peer.Decode(tn.ID())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// connected reports whether n has every other node as a connected member.
func connected(n *testNode, others ...*testNode) bool {
	for _, o := range others {
		if !hasMember(n, o.ID()) {
			return false
		}
		if n.Mesh().Host().Network().Connectedness(o.Mesh().ID()).String() != "Connected" {
			return false
		}
	}
	return true
}

// TestPushSwitchAndInterval: push off stops b's announcements, yet its
// events reach a by anti-entropy once a's interval is shortened at run
// time; push back on, they are pushed again.
func TestPushSwitchAndInterval(t *testing.T) {
	a := startTestNode(t, "", slowSync)
	b := startTestNode(t, "", slowSync, a.addr(t))
	waitFor(t, 20*time.Second, "a and b to be members of each other", func() bool { return connected(a, b) && connected(b, a) })

	// Push on (the default): an event of b reaches a by push; with hour-long
	// rounds nothing else would bring it. The gossipsub mesh takes a
	// heartbeat to form, so retry with new events until one is pushed.
	// b counts an announcement once its publish returns, which can be after
	// a has it: wait for the count too, so that none lands later.
	pushed := func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		last := ""
		for time.Now().Before(deadline) {
			before := b.Replicator().Counters().Announcements
			id := b.emitOne(t, "pushed")
			for wait := time.Now().Add(time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
				if last = a.via(t, id); last == "push" {
					waitFor(t, 10*time.Second, "b to count the announcement", func() bool {
						return b.Replicator().Counters().Announcements > before
					})
					return
				}
			}
		}
		t.Fatalf("no event of b reached a by push (last via %q)", last)
	}
	pushed()
	if r := a.Replicator().Counters().Rounds; r != 0 {
		t.Fatalf("a ran %d timed rounds with an hour-long interval", r)
	}

	// Push off on b: nothing is announced, and the event waits for a
	// round; a's interval shortened at run time brings it within moments.
	putConfig(t, b, `{"push": false}`)
	announced := b.Replicator().Counters().Announcements
	id := b.emitOne(t, "not pushed")
	out := putConfig(t, a, `{"sync_interval": "100ms"}`)
	if out.Values["sync_interval"] != "100ms" {
		t.Fatalf("a's interval: %+v", out.Values)
	}
	waitFor(t, 10*time.Second, "b's event to reach a by anti-entropy", func() bool { return a.via(t, id) != "" })
	if v := a.via(t, id); v != "session" {
		t.Fatalf("with push off b's event came by %q", v)
	}
	if got := b.Replicator().Counters().Announcements; got != announced {
		t.Fatalf("b published %d announcements with push off", got-announced)
	}
	if a.Replicator().Counters().Rounds == 0 {
		t.Fatal("a ran no round after its interval was shortened")
	}

	// Roll back: push on again, rounds rare again.
	putConfig(t, a, `{"sync_interval": "1h"}`)
	putConfig(t, b, `{"push": true}`)
	pushed()
	if b.Replicator().Counters().Announcements == announced {
		t.Fatal("b announced nothing with push back on")
	}
}

// TestFanoutSwitch: with fan-out 2 a round opens sessions with two peers.
func TestFanoutSwitch(t *testing.T) {
	a := startTestNode(t, "", func(c *Config) { c.SyncInterval = 100 * time.Millisecond })
	b := startTestNode(t, "", slowSync, a.addr(t))
	c := startTestNode(t, "", slowSync, a.addr(t))
	waitFor(t, 20*time.Second, "a mesh of three", func() bool { return connected(a, b, c) })
	// Fan-out 1: every round has at most one peer.
	waitFor(t, 10*time.Second, "a few rounds", func() bool { return len(a.Replicator().Rounds()) >= 5 })
	for _, r := range a.Replicator().Rounds() {
		if len(r.Peers) > 1 || r.Fanout != 1 {
			t.Fatalf("a fan-out 1 round with %d peers", len(r.Peers))
		}
	}

	changed := time.Now()
	putConfig(t, a, `{"sync_fanout": 2}`)
	var two []peer.ID
	waitFor(t, 10*time.Second, "a round with two peers", func() bool {
		for _, r := range a.Replicator().Rounds() {
			if r.Fanout == 2 && len(r.Peers) == 2 {
				two = r.Peers
				return true
			}
		}
		return false
	})
	want := []peer.ID{b.peerID(t), c.peerID(t)}
	slices.Sort(two)
	slices.Sort(want)
	if !slices.Equal(two, want) {
		t.Fatalf("round peers %v, want b and c %v", two, want)
	}
	// Both peers served a session a opened after the change.
	for _, p := range []*testNode{b, c} {
		waitFor(t, 10*time.Second, "an inbound session from a on "+p.ID(), func() bool {
			for _, s := range p.Replicator().Sessions() {
				if s.Peer == a.ID() && s.Direction == "in" && s.Started.After(changed) {
					return true
				}
			}
			return false
		})
	}
}

// putBlob stores data as a blob on n.
func putBlob(t *testing.T, n *testNode, data []byte) cid.Cid {
	t.Helper()
	c, _, err := n.Blobs().Put(context.Background(), bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func whole(n *testNode, c cid.Cid) bool {
	missing, err := n.Blobs().Missing(c)
	return err == nil && len(missing) == 0
}

// TestBlobPolicySwitch: on demand and sinks-only devices fetch nothing
// until asked, a sinks-only sink and an eager device fetch at once.
func TestBlobPolicySwitch(t *testing.T) {
	fast := func(c *Config) { c.SyncInterval = 100 * time.Millisecond }
	src := startTestNode(t, "", fast)
	onDemand := startTestNode(t, "", fast, src.addr(t))
	device := startTestNode(t, "", fast, src.addr(t))
	sink := startTestNode(t, "", func(c *Config) { fast(c); c.Role = RoleSink }, src.addr(t))
	putConfig(t, onDemand, `{"blob_policy": "on-demand"}`)
	putConfig(t, device, `{"blob_policy": "sinks-only"}`)
	putConfig(t, sink, `{"blob_policy": "sinks-only"}`)
	all := []*testNode{src, onDemand, device, sink}

	first := putBlob(t, src, bytes.Repeat([]byte("first blob "), 1000))
	src.emitOne(t, "photo", first)
	waitFor(t, 20*time.Second, "the event everywhere", func() bool { return converged(all, 1) })
	waitFor(t, 20*time.Second, "the sink to fetch the blob by itself", func() bool { return whole(sink, first) })
	for _, n := range []*testNode{onDemand, device} {
		if whole(n, first) || n.Replicator().Counters().EagerBlobFetches != 0 {
			t.Fatalf("device %s fetched the blob eagerly under %s", n.ID(), n.Switches().Settings().BlobPolicy)
		}
	}
	// Asked for, the on-demand device fetches it.
	resp, err := http.Get(onDemand.url + "/v1/blobs/" + first.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, bytes.Repeat([]byte("first blob "), 1000)) {
		t.Fatalf("GET the blob on demand: %d, %d bytes", resp.StatusCode, len(got))
	}

	// Switched to eager at run time, the device fetches the next blob itself.
	putConfig(t, onDemand, `{"blob_policy": "eager"}`)
	second := putBlob(t, src, []byte("second blob"))
	src.emitOne(t, "photo", second)
	// The fetch is counted just after it is queued, so a fast fetch can
	// finish before the count moves: wait for both.
	waitFor(t, 20*time.Second, "the eager device to fetch the second blob and count it", func() bool {
		return whole(onDemand, second) && onDemand.Replicator().Counters().EagerBlobFetches > 0
	})
	waitFor(t, 20*time.Second, "the event everywhere", func() bool { return converged(all, 2) })
	if whole(device, second) || device.Replicator().Counters().EagerBlobFetches != 0 {
		t.Fatal("the sinks-only device fetched a blob eagerly")
	}
}

// TestBandwidthBudget: a catch-up from a node with a budget of N bytes/s
// per peer takes at least (M − burst)/N for M bytes, by the budget's own
// accounting and by the wall clock (a lower bound: it cannot flake).
func TestBandwidthBudget(t *testing.T) {
	const rate = 128 << 10
	a := startTestNode(t, "", func(c *Config) {
		s := policy.Defaults()
		s.Push, s.SyncInterval = false, 100*time.Millisecond
		c.Switches = &policy.Resolved{Settings: s}
	})
	// The budget is switched on at run time, with a batch size it allows.
	putConfig(t, a, fmt.Sprintf(`{"peer_bandwidth": %d, "sync_batch_bytes": 262144}`, rate))
	a.emit(t, 1500, "catch.up") // about 300 KB
	start := time.Now()
	b := startTestNode(t, "", func(c *Config) { c.SyncInterval = 100 * time.Millisecond }, a.addr(t))
	waitFor(t, 60*time.Second, "b to catch up", func() bool { return converged([]*testNode{a, b}, 1500) })
	elapsed := time.Since(start)

	var sent uint64 // session bytes a sent to b
	var st budget.PeerStats
	// A session is recorded before its last frames (DONE) are written, so
	// the budget accounts for them a moment after the record shows them.
	waitFor(t, 10*time.Second, "a's sessions with b to finish and be accounted", func() bool {
		var events uint64
		sent = 0
		for _, s := range a.Replicator().Sessions() {
			if s.Peer == b.ID() {
				sent, events = sent+s.BytesOut, events+s.EventsOut
			}
		}
		var ok bool
		st, ok = a.Replicator().PeerBudget(b.peerID(t))
		return events == 1500 && ok && st.Bytes >= sent
	})
	t.Logf("sent %d bytes in %v; budget: %+v", sent, elapsed, st)
	if st.Rate != rate || st.Bytes < sent || sent < 4*uint64(st.Burst) || st.ThrottledBytes == 0 {
		t.Fatalf("budget accounted %+v for %d bytes sent", st, sent)
	}
	floor := time.Duration(float64(st.Bytes-uint64(st.Burst)) / rate * float64(time.Second))
	if span := st.Last.Sub(st.First); span < floor {
		t.Fatalf("the budget let %d bytes go in %v, under the %v its rate allows", st.Bytes, span, floor)
	}
	if min := time.Duration(float64(sent-uint64(st.Burst)) / rate * float64(time.Second)); elapsed < min {
		t.Fatalf("catch-up of %d bytes took %v, under the %v a budget of %d B/s allows", sent, elapsed, min, rate)
	}
	// b has no budget: what it sent a was not accounted.
	if _, ok := b.Replicator().PeerBudget(a.peerID(t)); ok {
		t.Fatal("an unlimited node accounted budget")
	}
	if m := scrape(t, a.Handler()); !bytes.Contains([]byte(m), []byte("rumor_throttled_bytes_total ")) ||
		bytes.Contains([]byte(m), []byte("rumor_throttled_bytes_total 0\n")) {
		t.Fatal("rumor_throttled_bytes_total does not count the throttled bytes")
	}
}

// catchUpFrom starts a fresh node peered with a only, waits until it holds
// all total events and a's sessions with it sent them, and returns those
// sessions' round trips and bytes; then stops the node.
func catchUpFrom(t *testing.T, a *testNode, total uint64) (roundTrips int, bytesOut uint64) {
	t.Helper()
	b := startTestNode(t, "", slowSync, a.addr(t))
	defer b.stop()
	waitFor(t, 30*time.Second, "the new node to catch up", func() bool { return converged([]*testNode{a, b}, total) })
	waitFor(t, 10*time.Second, "a's sessions with it to finish", func() bool {
		var events uint64
		roundTrips, bytesOut = 0, 0
		for _, s := range a.Replicator().Sessions() {
			if s.Peer == b.ID() {
				events += s.EventsOut
				roundTrips += s.Result.RoundTrips
				bytesOut += s.BytesOut
			}
		}
		return events == total
	})
	return roundTrips, bytesOut
}

// TestBatchSizeSwitch: smaller batches and runs, switched on at run time,
// make the next catch-up send more frames (round trips for a full window)
// and more seals (bytes) for the same events.
func TestBatchSizeSwitch(t *testing.T) {
	a := startTestNode(t, "", func(c *Config) {
		s := policy.Defaults()
		s.Push, s.SyncInterval = false, 100*time.Millisecond
		c.Switches = &policy.Resolved{Settings: s}
	})
	for range 100 { // 100 sealed batches of 15 events
		a.emit(t, 15, "batch")
	}
	bigTrips, bigBytes := catchUpFrom(t, a, 1500)
	putConfig(t, a, `{"sync_batch_bytes": 1024, "sync_run_bytes": 1024}`)
	smallTrips, smallBytes := catchUpFrom(t, a, 1500)
	t.Logf("1 MiB batches: %d round trips, %d bytes; 1 KiB batches: %d round trips, %d bytes", bigTrips, bigBytes, smallTrips, smallBytes)
	if smallTrips < bigTrips+5 || smallBytes <= bigBytes {
		t.Fatalf("1 KiB batches and runs took %d round trips and %d bytes, 1 MiB ones %d and %d", smallTrips, smallBytes, bigTrips, bigBytes)
	}
}
