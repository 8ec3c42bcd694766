package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// postJSON posts one event object and returns its id.
func postJSON(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acks struct {
		Events []struct {
			ID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&acks); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/events: %d, %v", resp.StatusCode, err)
	}
	return acks.Events[0].ID
}

func postBlob(t *testing.T, url string, data []byte) string {
	t.Helper()
	resp, err := http.Post(url+"/v1/blobs", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		CID string `json:"cid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/blobs: %d %v", resp.StatusCode, err)
	}
	return out.CID
}

// redactVia sends DELETE /v1/events/{id} to a node's API.
func redactVia(t *testing.T, url, id string) (int, api.RedactionJSON, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url+"/v1/events/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r api.RedactionJSON
	_ = json.Unmarshal(b, &r)
	return resp.StatusCode, r, string(b)
}

// eventJSON is GET /v1/events/{id} on a node, with the raw body.
func eventJSON(t *testing.T, url, id string) (event.JSON, string) {
	t.Helper()
	resp, err := http.Get(url + "/v1/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e event.JSON
	_ = json.Unmarshal(b, &e)
	return e, string(b)
}

func redactedOn(t *testing.T, n *testNode, id string) bool {
	e, raw := eventJSON(t, n.url, id)
	return e.Redacted && !strings.Contains(raw, "s3cr3t")
}

// logHolds reports whether any of the node's segment files holds b.
func logHolds(t *testing.T, n *testNode, b string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(n.dir, "log", "*.seg"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(b)) {
			return true
		}
	}
	return false
}

func blobStatus(t *testing.T, n *testNode, c string) int {
	resp, err := http.Get(n.url + "/v1/blobs/" + c)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func dayCount(t *testing.T, n *testNode, typ string) crdt.AggSummary {
	t.Helper()
	var out struct {
		Aggregates []struct {
			Summary crdt.AggSummary `json:"summary"`
		} `json:"aggregates"`
	}
	getJSON(t, n.url+"/v1/aggregates?window=1d&type="+typ, &out)
	if len(out.Aggregates) != 1 {
		t.Fatalf("%d aggregate rows", len(out.Aggregates))
	}
	return out.Aggregates[0].Summary
}

// TestRedactionAcrossTheMesh: a redaction made on a removes the payload
// and blob on b and on c, which was offline holding the event and loses it
// when it reconnects; a fresh node d then pulls the redacted range,
// verifies it and never sees the payload; the aggregates agree everywhere.
func TestRedactionAcrossTheMesh(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	c := startTestNode(t, "", nil, a.addr(t), b.addr(t))
	blob := postBlob(t, a.url, []byte("the secret attachment"))
	for i := range 5 {
		postJSON(t, a.url, fmt.Sprintf(`{"type":"visit","payload":{"who":"public-%d","value":%d}}`, i, i+1))
	}
	id := postJSON(t, a.url, `{"type":"visit","payload":{"who":"s3cr3t-alice","value":100},"blobs":["`+blob+`"]}`)
	postJSON(t, a.url, `{"type":"visit","payload":{"who":"public-6","value":7}}`)
	all := []*testNode{a, b, c}
	waitFor(t, 20*time.Second, "the mesh to converge", func() bool { return converged(all, 7) })
	waitFor(t, 10*time.Second, "c to fetch the blob", func() bool { return blobStatus(t, c, blob) == http.StatusOK })

	cDir := c.dir
	c.stop() // offline, holding the event and its blob
	code, red, body := redactVia(t, a.url, id)
	if code != http.StatusAccepted || red.Redaction == nil || red.Redaction.DeviceID != a.ID() {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	waitFor(t, 15*time.Second, "b to apply the redaction", func() bool { return redactedOn(t, b, id) })
	for _, n := range []*testNode{a, b} {
		waitFor(t, 10*time.Second, "the payload to be erased from the log", func() bool { return !logHolds(t, n, "s3cr3t-alice") })
		waitFor(t, 10*time.Second, "the blob to go", func() bool { return blobStatus(t, n, blob) == http.StatusNotFound })
	}
	if !logHolds(t, &testNode{dir: cDir}, "s3cr3t-alice") {
		t.Fatal("the offline node's log lost the payload while offline (the test proves nothing)")
	}

	c2 := startTestNode(t, cDir, nil, a.addr(t), b.addr(t))
	waitFor(t, 20*time.Second, "c to apply the redaction on reconnecting", func() bool { return redactedOn(t, c2, id) })
	waitFor(t, 10*time.Second, "c to erase the payload", func() bool { return !logHolds(t, c2, "s3cr3t-alice") })
	waitFor(t, 10*time.Second, "c to drop the blob", func() bool { return blobStatus(t, c2, blob) == http.StatusNotFound })

	// A fresh node pulls everything, from c first: the redacted event
	// arrives redacted, verified against a's seal, and nothing resurrects.
	d := startTestNode(t, "", nil, c2.addr(t))
	all = []*testNode{a, b, c2, d}
	waitFor(t, 30*time.Second, "d to converge", func() bool { return converged(all, 8) })
	if !redactedOn(t, d, id) || logHolds(t, d, "s3cr3t-alice") {
		t.Fatal("the fresh node got the payload")
	}
	if blobStatus(t, d, blob) != http.StatusNotFound {
		t.Fatal("the fresh node got the blob")
	}
	want := dayCount(t, a, "visit")
	if want.Count != 6 || want.Sum != 1+2+3+4+5+7 || want.Redacted != 1 {
		t.Fatalf("aggregates on a: %+v", want)
	}
	wantJSON, _ := json.Marshal(want)
	for _, n := range all[1:] {
		if got, _ := json.Marshal(dayCount(t, n, "visit")); string(got) != string(wantJSON) {
			t.Fatalf("aggregates on %s: %s, want %s", n.ID(), got, wantJSON)
		}
	}
}

// newIdentityDir creates a data directory with its identity and returns
// both, so that a device id is known before its node starts.
func newIdentityDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	id, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, id.ID.String()
}

func rejectedFrom(t *testing.T, n *testNode, reason string) float64 {
	var total float64
	for k, v := range scrapeMetrics(t, n.url) {
		if strings.HasPrefix(k, "rumor_events_rejected_total{") && strings.Contains(k, `reason="`+reason+`"`) {
			total += v
		}
	}
	return total
}

// TestOperatorRedaction: an operator redacts another device's event
// everywhere; a device that is not an operator gets 403 for it; and a
// device that wrongly believes it is one has its redaction refused by
// every peer, each counting it against the peer that delivered it.
func TestOperatorRedaction(t *testing.T) {
	opDir, opID := newIdentityDir(t)
	rogueDir, rogueID := newIdentityDir(t)
	listed := func(ids ...string) func(*Config) { return func(c *Config) { c.Operators = ids } }
	op := startTestNode(t, opDir, listed(opID))
	a := startTestNode(t, "", listed(opID), op.addr(t))
	b := startTestNode(t, "", listed(opID), op.addr(t), a.addr(t))
	rogue := startTestNode(t, rogueDir, listed(opID, rogueID), op.addr(t), a.addr(t))
	first := postJSON(t, a.url, `{"type":"note","payload":{"text":"s3cr3t-one","value":1}}`)
	second := postJSON(t, a.url, `{"type":"note","payload":{"text":"s3cr3t-two","value":2}}`)
	all := []*testNode{op, a, b, rogue}
	waitFor(t, 20*time.Second, "convergence", func() bool { return converged(all, 2) })

	if code, _, body := redactVia(t, b.url, first); code != http.StatusForbidden {
		t.Fatalf("a non-operator's DELETE of another device's event: %d %s", code, body)
	}
	if code, _, body := redactVia(t, op.url, first); code != http.StatusAccepted {
		t.Fatalf("the operator's DELETE: %d %s", code, body)
	}
	waitFor(t, 20*time.Second, "the operator's redaction everywhere", func() bool {
		for _, n := range all {
			if !redactedOn(t, n, first) {
				return false
			}
		}
		return true
	})

	if code, _, body := redactVia(t, rogue.url, second); code != http.StatusAccepted {
		t.Fatalf("the rogue's own DELETE: %d %s", code, body)
	}
	waitFor(t, 20*time.Second, "the rogue's redaction event to reach everyone", func() bool { return converged(all, 4) })
	for _, n := range []*testNode{op, a, b} {
		if redactedOn(t, n, second) {
			t.Fatalf("%s applied a redaction by a device that is not an operator", n.ID())
		}
		if e, _ := eventJSON(t, n.url, second); !strings.Contains(string(e.Payload), "s3cr3t-two") {
			t.Fatalf("%s lost the payload: %s", n.ID(), e.Payload)
		}
		waitFor(t, 10*time.Second, "the refusal to be counted", func() bool { return rejectedFrom(t, n, "redaction_unauthorized") >= 1 })
	}
}

// TestMixedVersionMesh: a node pinned to sync protocol version 1 (as a
// node of the previous release) converges with version 2 nodes on whole
// events, each of its sessions running in version 1 and theirs between
// themselves in version 2.
func TestMixedVersionMesh(t *testing.T) {
	pinned := func(c *Config) { c.SyncProtocol = 1 }
	a := startTestNode(t, "", nil)
	old := startTestNode(t, "", pinned, a.addr(t))
	b := startTestNode(t, "", nil, a.addr(t), old.addr(t))
	a.emit(t, 40, "a")
	old.emit(t, 25, "old")
	b.emit(t, 30, "b")
	all := []*testNode{a, old, b}
	waitFor(t, 30*time.Second, "the mixed mesh to converge", func() bool { return converged(all, 95) })
	old.emit(t, 5, "old-late")
	a.emit(t, 5, "a-late")
	waitFor(t, 20*time.Second, "later events to cross", func() bool { return converged(all, 105) })
	versions := func(n *testNode) map[string]map[uint8]int {
		out := map[string]map[uint8]int{}
		for _, s := range n.Replicator().Sessions() {
			if out[s.Peer] == nil {
				out[s.Peer] = map[uint8]int{}
			}
			out[s.Peer][s.Protocol]++
			// "failed" is a session one side reset because both opened one
			// at once; a version mismatch would be a protocol or remote error.
			if s.Outcome == "protocol_error" || s.Outcome == "remote_error" {
				t.Errorf("session %s of %s with %s: %s %s", s.ID, n.ID(), s.Peer, s.Outcome, s.Error)
			}
		}
		return out
	}
	// Convergence can come through b and pushes before a and the pinned
	// node finish a session of their own: sessions are traced when they end.
	waitFor(t, 20*time.Second, "a to finish sessions with both peers", func() bool {
		seen := map[string]bool{}
		for _, s := range a.Replicator().Sessions() {
			seen[s.Peer] = true
		}
		return seen[old.ID()] && seen[b.ID()]
	})
	for peer, vs := range versions(old) {
		if vs[2] != 0 || vs[1] == 0 {
			t.Fatalf("the pinned node's sessions with %s ran in %v", peer, vs)
		}
	}
	if vs := versions(a)[b.ID()]; vs[2] == 0 || vs[1] != 0 {
		t.Fatalf("a and b ran %v", vs)
	}
	if vs := versions(a)[old.ID()]; vs[1] == 0 || vs[2] != 0 {
		t.Fatalf("a and the pinned node ran %v", vs)
	}

	// A redaction: every node applies it (the pinned one runs this code,
	// and a redaction event is an ordinary event). A fresh pinned node then
	// gets everything version 1 can carry: all but a's first batch, whose
	// only seal lies after the redacted event, so no version 1 peer can
	// send any of it without it.
	target, err := a.Store().Get(crdt.Dot{Origin: a.ID(), Seq: 10})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := redactVia(t, a.url, target.ID.String()); code != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	waitFor(t, 20*time.Second, "the redaction to reach everyone", func() bool {
		return converged(all, 106) && redactedOn(t, b, target.ID.String()) && redactedOn(t, old, target.ID.String())
	})
	fresh := startTestNode(t, "", pinned, a.addr(t), b.addr(t))
	waitFor(t, 30*time.Second, "the fresh pinned node to get what version 1 carries", func() bool {
		return fresh.Store().Summary().Events == 96
	})
	for seq := uint64(1); seq <= 10; seq++ {
		if fresh.Store().Holds(crdt.Dot{Origin: a.ID(), Seq: seq}) {
			t.Fatalf("a version 1 session carried a/%d", seq)
		}
	}
	if vv := fresh.Store().Summary().VersionVector; vv[old.ID()] != 30 || vv[b.ID()] != 30 {
		t.Fatalf("fresh pinned node: %v", vv)
	}
	for peer, vs := range versions(fresh) {
		if vs[2] != 0 {
			t.Fatalf("the fresh pinned node ran version 2 with %s", peer)
		}
	}
}
