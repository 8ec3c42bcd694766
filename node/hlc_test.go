package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
)

// offsetClock is the wall clock shifted by a fixed offset: a device whose
// clock is wrong.
type offsetClock time.Duration

func (c offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c)) }

// httpDo sends a request to tn's API and returns status, headers and body.
func (tn *testNode) httpDo(t *testing.T, method, path, ctype string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, tn.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// timeView reads the whole time-ordered view of tn over HTTP, limit events
// per page, and returns the events and the cursors of the pages.
func (tn *testNode) timeView(t *testing.T, limit int) ([]event.JSON, []string) {
	t.Helper()
	var all []event.JSON
	var cursors []string
	q := fmt.Sprintf("/v1/events?order=time&limit=%d", limit)
	for {
		code, h, b := tn.httpDo(t, "GET", q, "", nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, b)
		}
		var page []event.JSON
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var e event.JSON
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			page = append(page, e)
		}
		all = append(all, page...)
		next := h.Get("Rumor-Next-Cursor")
		if next == "" {
			return all, cursors
		}
		cursors = append(cursors, next)
		q = fmt.Sprintf("/v1/events?order=time&limit=%d&cursor=%s", limit, next)
	}
}

func mustHLC(t *testing.T, s string) event.HLC {
	t.Helper()
	h, err := event.ParseHLC(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSkewedClocksConvergeOnOneTimeOrder runs three nodes whose clocks
// disagree: b is 30 s ahead of a (within the default 1 min bound), c five
// minutes ahead (beyond it). They post events over HTTP in rounds and
// converge after each. Then every node returns the same time-ordered view
// and the same pages; a's events after a round sort after b's events of
// that round although a's clock is 30 s behind (its HLC followed b), while
// nobody followed c, whose events all sort last and are counted as skewed.
func TestSkewedClocksConvergeOnOneTimeOrder(t *testing.T) {
	offsets := []time.Duration{0, 30 * time.Second, 5 * time.Minute}
	a := startTestNode(t, "", func(c *Config) { c.Clock = offsetClock(offsets[0]) })
	b := startTestNode(t, "", func(c *Config) { c.Clock = offsetClock(offsets[1]) }, a.addr(t))
	c := startTestNode(t, "", func(c *Config) { c.Clock = offsetClock(offsets[2]) }, a.addr(t))
	nodes := []*testNode{a, b, c}
	const rounds, perPost = 4, 3
	total := uint64(0)
	for r := range rounds {
		for i, n := range nodes {
			var body strings.Builder
			for k := range perPost {
				fmt.Fprintf(&body, `{"type":"round","payload":{"round":%d,"node":%d,"k":%d}}`+"\n", r, i, k)
			}
			if code, _, resp := n.httpDo(t, "POST", "/v1/events", "application/x-ndjson", []byte(body.String())); code != 201 {
				t.Fatalf("post to node %d: %d %s", i, code, resp)
			}
			total += perPost
			waitFor(t, 20*time.Second, fmt.Sprintf("round %d node %d to converge", r, i), func() bool { return converged(nodes, total) })
		}
	}
	want, wantCursors := a.timeView(t, 5)
	if uint64(len(want)) != total {
		t.Fatalf("a's view has %d events, want %d", len(want), total)
	}
	for i, n := range nodes[1:] {
		got, cursors := n.timeView(t, 5)
		if !slices.EqualFunc(got, want, func(x, y event.JSON) bool { return x.EventID == y.EventID && x.HLC == y.HLC }) {
			t.Fatalf("node %d's time-ordered view differs from a's", i+1)
		}
		if !slices.Equal(cursors, wantCursors) {
			t.Fatalf("node %d's pages end elsewhere than a's:\n%v\n%v", i+1, cursors, wantCursors)
		}
	}
	// Causality across the 30 s skew: each of a's posts sorts after b's
	// post of the round before, which a had received when it posted.
	maxHLC := map[[2]int]event.HLC{} // (round, node) -> greatest stamp
	minHLC := map[[2]int]event.HLC{}
	owner := map[string]int{a.ID(): 0, b.ID(): 1, c.ID(): 2}
	for _, e := range want {
		var p struct{ Round int }
		json.Unmarshal(e.Payload, &p)
		k, h := [2]int{p.Round, owner[e.DeviceID]}, mustHLC(t, e.HLC)
		if m, ok := maxHLC[k]; !ok || h.Compare(m) > 0 {
			maxHLC[k] = h
		}
		if m, ok := minHLC[k]; !ok || h.Compare(m) < 0 {
			minHLC[k] = h
		}
	}
	for r := 1; r < rounds; r++ {
		if minHLC[[2]int{r, 0}].Compare(maxHLC[[2]int{r - 1, 1}]) <= 0 {
			t.Errorf("round %d: a's events (%v) not after b's of round %d (%v)", r, minHLC[[2]int{r, 0}], r-1, maxHLC[[2]int{r - 1, 1}])
		}
	}
	// c's clock is beyond the bound: its events come last, not followed.
	for i, e := range want {
		if (i >= len(want)-rounds*perPost) != (e.DeviceID == c.ID()) {
			t.Fatalf("event %d of the view is %s's; want all of c's events last", i, e.DeviceID)
		}
	}
	for _, n := range nodes[:2] {
		_, _, text := n.httpDo(t, "GET", "/metrics", "", nil)
		line := fmt.Sprintf(`rumor_clock_skew_events_total{device="%s"} %d`, c.ID(), rounds*perPost)
		if !strings.Contains(string(text), line) {
			t.Errorf("node %s: metrics lack %q", n.ID(), line)
		}
	}
	_, _, text := a.httpDo(t, "GET", "/metrics", "", nil)
	var ahead float64
	if _, err := fmt.Sscanf(grepLines(string(text), "rumor_hlc_ahead_seconds "), "rumor_hlc_ahead_seconds %g", &ahead); err != nil || ahead < 10 || ahead > 30.5 {
		t.Errorf("a's HLC is shown %g s ahead (%v), want about 30 s less the test's run time", ahead, err)
	}
	// Each status shows an HLC at or above everything the node followed.
	for i, n := range nodes {
		_, _, body := n.httpDo(t, "GET", "/v1/status", "", nil)
		var st struct{ HLC string }
		json.Unmarshal(body, &st)
		if h := mustHLC(t, st.HLC); h.Compare(maxHLC[[2]int{rounds - 1, 1}]) < 0 {
			t.Errorf("node %d: status hlc %v below b's last event %v", i, h, maxHLC[[2]int{rounds - 1, 1}])
		}
	}
}

// grepLines returns the lines of text that start with prefix.
func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
