package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/api"
)

// postEvents ingests n events of type typ through the node's HTTP API and
// returns their ids.
func postEvents(t *testing.T, url string, n int, typ string) []string {
	t.Helper()
	var body bytes.Buffer
	for i := range n {
		fmt.Fprintf(&body, `{"type":%q,"payload":{"value":%d}}`+"\n", typ, i)
	}
	resp, err := http.Post(url+"/v1/events", "application/x-ndjson", &body)
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
	ids := make([]string, len(acks.Events))
	for i, a := range acks.Events {
		ids[i] = a.ID
	}
	return ids
}

// getJSON GETs url and decodes the JSON body into out (if not nil).
func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %d, body not JSON: %q", url, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// scrapeMetrics reads GET /metrics as a map from series (name and labels,
// as exposed) to value.
func scrapeMetrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if line == "" || line[0] == '#' || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// has reports whether any series of metric name is present.
func has(m map[string]float64, name string) bool {
	for k := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			return true
		}
	}
	return false
}

func TestMetricsOfTwoSyncingNodes(t *testing.T) {
	a := startTestNode(t, "", func(c *Config) { c.MQTTAddr = "127.0.0.1:0" })
	b := startTestNode(t, "", nil, a.addr(t))
	postEvents(t, a.url, 5, "door.open")
	waitFor(t, 15*time.Second, "two nodes to converge", func() bool { return converged([]*testNode{a, b}, 5) })
	// The counters move after what they count is visible: each side counts
	// a session when its own end of it finishes (b's count does not imply
	// a's), events once their commit or apply returns (after convergence
	// shows them). Wait for the counts the checks below look at.
	var ma, mb map[string]float64
	timed := func(m map[string]float64) bool {
		return m["rumor_sync_session_seconds_count"] >= 1 && m["rumor_delta_bytes_count"] >= 1
	}
	waitFor(t, 15*time.Second, "b to count a session, be complete and see a as member, and the events and a's session to be counted", func() bool {
		mb = scrapeMetrics(t, b.url)
		ma = scrapeMetrics(t, a.url)
		return mb[`rumor_sync_sessions_total{result="ok"}`] >= 1 && mb["rumor_completeness_ratio"] == 1 &&
			mb["rumor_members"] == 1 && timed(ma) && timed(mb) &&
			ma["rumor_events_ingested_total"] >= 5 && mb[`rumor_events_received_total{peer="`+a.ID()+`"}`] >= 5
	})
	for _, name := range []string{
		"rumor_events_ingested_total", "rumor_events_received_total", "rumor_events_rejected_total",
		"rumor_sync_sessions_total", "rumor_sync_session_seconds_bucket", "rumor_delta_bytes_bucket",
		"rumor_completeness_ratio", "rumor_lag_seconds", "rumor_peers", "rumor_members", "rumor_blob_bytes",
		"rumor_ingest_commit_seconds_bucket", "go_goroutines", "process_start_time_seconds",
	} {
		if !has(ma, name) && !has(mb, name) {
			t.Errorf("no node exposes %s", name)
		}
	}
	for series, want := range map[string]float64{
		"rumor_events_ingested_total":                                  5,
		"rumor_ingest_commit_seconds_count":                            1, // one POST
		`rumor_events_rejected_total{peer="",reason="mqtt_malformed"}`: 0,
		`rumor_lag_seconds{device="` + a.ID() + `"}`:                   0,
		"rumor_blob_bytes":                                             0,
	} {
		if got, ok := ma[series]; !ok || got != want {
			t.Errorf("a: %s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	for series, want := range map[string]float64{
		"rumor_events_ingested_total":                        0,
		`rumor_events_received_total{peer="` + a.ID() + `"}`: 5,
		`rumor_lag_seconds{device="` + a.ID() + `"}`:         0,
		"rumor_completeness_ratio":                           1,
		`rumor_sync_sessions_total{result="protocol_error"}`: 0,
	} {
		if got, ok := mb[series]; !ok || got != want {
			t.Errorf("b: %s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	for _, m := range []map[string]float64{ma, mb} {
		if m["rumor_peers"] < 1 || m["rumor_sync_session_seconds_count"] < 1 || m["rumor_delta_bytes_count"] < 1 {
			t.Errorf("peers %v, sessions timed %v, deltas %v: want each >= 1",
				m["rumor_peers"], m["rumor_sync_session_seconds_count"], m["rumor_delta_bytes_count"])
		}
	}
	if mb["rumor_delta_bytes_sum"] <= 0 {
		t.Errorf("b received its 5 events in sessions of %v bytes in all", mb["rumor_delta_bytes_sum"])
	}
}

// traceEvent waits until url's trace places event id and returns where.
func traceEvent(t *testing.T, url, id string) api.EventTrace {
	t.Helper()
	var out api.EventTrace
	waitFor(t, 10*time.Second, "the trace to place event "+id, func() bool {
		out = api.EventTrace{}
		return getJSON(t, url+"/v1/trace?event_id="+id, &out) == http.StatusOK
	})
	return out
}

func TestTraceFindsTheSessionThatBroughtAnEvent(t *testing.T) {
	a := startTestNode(t, "", nil)
	ids := postEvents(t, a.url, 3, "before")
	b := startTestNode(t, "", nil, a.addr(t))
	waitFor(t, 15*time.Second, "b to catch up", func() bool { return converged([]*testNode{a, b}, 3) })

	// Ingested before b existed, so no push reached b: a session did.
	got := traceEvent(t, b.url, ids[1])
	if got.Via != "session" || got.DeviceID != a.ID() || got.Seq != 2 || got.Session == nil ||
		got.Session.Peer != a.ID() || got.Session.Result != "ok" || got.Session.ID == "" {
		t.Fatalf("event from a on b: %+v", got)
	}
	if !slicesContain(got.Session.Ranges, a.ID(), 2) {
		t.Fatalf("session ranges %v lack %s/2", got.Session.Ranges, a.ID())
	}
	if local := traceEvent(t, a.url, ids[1]); local.Via != "local" || local.Session != nil {
		t.Fatalf("event on its own node: %+v", local)
	}

	// Listing: newest first, the session above among them, peer filter.
	var list api.TraceList
	if code := getJSON(t, b.url+"/v1/trace", &list); code != 200 || len(list.Sessions) == 0 {
		t.Fatalf("list: %d %+v", code, list)
	}
	found := false
	for i, s := range list.Sessions {
		found = found || s.ID == got.Session.ID
		if s.Peer != a.ID() || (i > 0 && s.Started.After(list.Sessions[i-1].Started)) {
			t.Fatalf("session %d of %d out of order or with a stranger: %+v", i, len(list.Sessions), s)
		}
	}
	if !found {
		t.Fatalf("session %s not listed", got.Session.ID)
	}
	if getJSON(t, b.url+"/v1/trace?limit=1&peer="+a.ID(), &list); len(list.Sessions) != 1 {
		t.Fatalf("limit=1 with a's id: %d sessions", len(list.Sessions))
	}
	if getJSON(t, b.url+"/v1/trace?peer="+b.ID(), &list); len(list.Sessions) != 0 {
		t.Fatalf("peer filter for a peer b never met: %d sessions", len(list.Sessions))
	}

	// A new event reaches b by push (or, if the push loses the race, a session).
	late := postEvents(t, a.url, 1, "after")[0]
	got = traceEvent(t, b.url, late)
	if (got.Via != "push" && got.Via != "session") || got.Session == nil || got.Session.Peer != a.ID() ||
		!slicesContain(got.Session.Ranges, a.ID(), 4) {
		t.Fatalf("late event on b: %+v", got)
	}

	t.Logf("late event came by %s %s", got.Via, got.Session.ID)
	var e struct{ Error string }
	for path, want := range map[string]int{
		"/v1/trace?event_id=" + uuid.NewString():  404, // unknown
		"/v1/trace?limit=0":                       400,
		"/v1/trace?limit=5000":                    400,
		"/v1/trace?peer=nobody":                   400,
		"/v1/trace?event_id=nope":                 400,
		"/v1/trace?event_id=" + late + "&limit=2": 400,
		"/v1/trace?limit=5&since=yesterday":       400,
	} {
		e.Error = ""
		if code := getJSON(t, b.url+path, &e); code != want || e.Error == "" {
			t.Errorf("GET %s: %d %q, want %d with an error", path, code, e.Error, want)
		}
	}
}

func slicesContain(rs []api.TraceRange, origin string, seq uint64) bool {
	for _, r := range rs {
		if r.Origin == origin && r.From <= seq && seq <= r.To {
			return true
		}
	}
	return false
}

func TestTraceOfflineNode(t *testing.T) {
	n := startTestNode(t, "", func(c *Config) { c.Offline = true })
	id := postEvents(t, n.url, 1, "x")[0]
	var list api.TraceList
	if code := getJSON(t, n.url+"/v1/trace", &list); code != 200 || list.Sessions == nil || len(list.Sessions) != 0 {
		t.Fatalf("offline list: %d %+v", code, list)
	}
	if got := traceEvent(t, n.url, id); got.Via != "local" {
		t.Fatalf("offline local event: %+v", got)
	}
}

func TestReadyz(t *testing.T) {
	var body struct{ Status, Error string }
	off := startTestNode(t, "", func(c *Config) { c.Offline = true })
	if code := getJSON(t, off.url+"/readyz", &body); code != 200 || body.Status != "ready" {
		t.Fatalf("offline node: %d %+v", code, body)
	}
	n := startTestNode(t, "", nil)
	if code := getJSON(t, n.url+"/readyz", &body); code != 200 || body.Status != "ready" {
		t.Fatalf("networked node: %d %+v", code, body)
	}
	if err := n.stopNetwork(); err != nil {
		t.Fatal(err)
	}
	if code := getJSON(t, n.url+"/readyz", &body); code != 503 || !strings.Contains(body.Error, "network") {
		t.Fatalf("network down: %d %+v", code, body)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if code := getJSON(t, n.url+"/readyz", &body); code != 503 || !strings.Contains(body.Error, "shutting down") {
		t.Fatalf("closed: %d %+v", code, body)
	}
	if code := getJSON(t, n.url+"/healthz", nil); code != 200 {
		t.Fatalf("healthz while closing: %d", code)
	}
}
