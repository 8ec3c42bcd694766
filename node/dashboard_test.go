package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rumor-sync/rumor/node/series"
)

func TestDashboardRoutesAndSeries(t *testing.T) {
	n := startTestNode(t, "", func(c *Config) { c.Offline = true })
	n.emit(t, 3, "door.open")
	h := n.Handler()
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string
	}{
		{"GET", "/", 200, "text/html"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/ui/app.js", 200, "text/javascript"},
		{"GET", "/v1/series", 200, "application/json"},
		{"POST", "/", 405, "application/json"},
		{"GET", "/nope", 404, "application/json"},
		{"GET", "/ui/nope.js", 404, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: %d %q, want %d %s", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.code, tc.ctype)
		}
	}

	// The store acknowledges before its commit hook runs: poll.
	var snap series.Snapshot
	waitFor(t, 5*time.Second, "the series to count 3 ingested events", func() bool {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/series", nil))
		if err := json.Unmarshal(rec.Body.Bytes(), &snap); err != nil {
			t.Fatal(err)
		}
		var ingested uint64
		for _, s := range snap.Samples {
			ingested += s.Ingested
			if s.Received != 0 {
				t.Fatalf("an offline node received events: %+v", snap)
			}
		}
		return ingested == 3
	})
	if snap.Len != 120 || snap.StepSeconds != 5 {
		t.Fatalf("series = %d buckets of %v s, want 120 of 5 s", snap.Len, snap.StepSeconds)
	}
}

// chromium returns the headless browser for the dashboard test. CI
// installs it (.ci/run); elsewhere the test is skipped without it.
func chromium(t *testing.T) string {
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the dashboard test needs %s in CI: %v", path, err)
		}
		t.Skipf("no %s (apt-get install chromium); skipping the browser test", path)
	}
	return path
}

// dashProbe is what the test reads off the rendered page.
type dashProbe struct {
	Refreshes int `json:"refreshes"`
	Devices   []struct {
		ID       string `json:"id"`
		Pct      string `json:"pct"`
		Archived string `json:"archived"`
	} `json:"devices"`
	Sinks        []string `json:"sinks"`
	Sessions     int      `json:"sessions"`
	SessionsNote string   `json:"sessionsNote"`
	IngestBars   int      `json:"ingestBars"`
	SyncBars     int      `json:"syncBars"`
	Peers        []string `json:"peers"`
	AggTypes     []string `json:"aggTypes"`
	NodeFacts    string   `json:"nodeFacts"`
	Switches     []struct {
		Key, Value, Source string
	} `json:"switches"`
}

const probeJS = `(() => {
  const q = (s) => document.querySelector(s);
  const all = (s) => [...document.querySelectorAll(s)];
  return {
    refreshes: +(document.body.dataset.refreshes || 0),
    devices: all('#leaderboard tbody tr[data-device]').map((r) => ({ id: r.dataset.device, pct: r.querySelector('.pct').textContent,
      archived: r.querySelector('.archived').textContent })),
    sinks: all('#node li[data-sink]').map((li) => li.dataset.sink),
    sessions: all('#sessions tbody tr.session-row').length,
    sessionsNote: (q('#sessions tbody tr.empty') || {}).textContent || '',
    ingestBars: +(q('#chart-ingest').dataset.nonzero || 0),
    syncBars: +(q('#chart-sync').dataset.nonzero || 0),
    peers: all('#peers tbody tr[data-peer]').map((r) => r.dataset.peer),
    aggTypes: all('#aggs tbody tr[data-type]').map((r) => r.dataset.type),
    nodeFacts: q('#node').textContent,
    switches: all('#switches [data-key]').map((e) => ({ key: e.dataset.key, value: e.querySelector('.value').textContent, source: e.dataset.source })),
  };
})()`

// switchProblems lists what the sync switches card gets wrong, after
// the test set fan-out 2 and a 1 MiB/s budget through the API.
func (p dashProbe) switchProblems() []string {
	want := map[string][2]string{ // key → value shown, source
		"push": {"on", "default"}, "sync_interval": {"200ms", "flag"}, "sync_fanout": {"2 peers", "api"},
		"blob_policy": {"eager", "default"}, "peer_bandwidth": {"1.0 MiB/s", "api"}, "sync_batch_bytes": {"1.0 MiB", "default"},
	}
	var out []string
	seen := map[string]bool{}
	for _, sw := range p.Switches {
		seen[sw.Key] = true
		if w, ok := want[sw.Key]; ok && (sw.Value != w[0] || sw.Source != w[1]) {
			out = append(out, fmt.Sprintf("switches: %s shows %q from %s, want %q from %s", sw.Key, sw.Value, sw.Source, w[0], w[1]))
		}
	}
	if len(seen) != 8 {
		out = append(out, fmt.Sprintf("switches: %d settings shown, want 8", len(seen)))
	}
	return out
}

// problems lists what the rendered dashboard still lacks.
func (p dashProbe) problems(ids []string, wantSessions bool, types []string) []string {
	var out []string
	pct := map[string]string{}
	for _, d := range p.Devices {
		pct[d.ID] = d.Pct
	}
	for i, id := range ids {
		if pct[id] != "100%" {
			out = append(out, "leaderboard: device "+id+" at "+pct[id]+", want 100%")
		}
		if i > 0 && !slices.Contains(p.Peers, id) { // ids[0] is this node
			out = append(out, "peers and members: no row for "+id)
		}
	}
	if !strings.Contains(p.NodeFacts, ids[0]) {
		out = append(out, "this node: no device id")
	}
	if wantSessions && p.Sessions == 0 {
		out = append(out, "sessions: no row")
	}
	if !wantSessions && !strings.Contains(p.SessionsNote, "not available") {
		out = append(out, "sessions: no 'not available' note without /v1/trace")
	}
	if p.IngestBars == 0 || p.SyncBars == 0 {
		out = append(out, "charts: an empty chart")
	}
	for _, typ := range types {
		if !slices.Contains(p.AggTypes, typ) {
			out = append(out, "aggregates: no row for "+typ)
		}
	}
	return out
}

// archiveProblems lists what the dashboard still lacks of the sinks'
// archived watermarks: archived is the text expected in each device's
// Archived cell.
func (p dashProbe) archiveProblems(archived map[string]string, sink string) []string {
	var out []string
	for _, d := range p.Devices {
		if want, ok := archived[d.ID]; ok && d.Archived != want {
			out = append(out, "leaderboard: device "+d.ID+" archived "+strconv.Quote(d.Archived)+", want "+want)
		}
	}
	if !slices.Contains(p.Sinks, sink) {
		out = append(out, "this node: sink "+sink+" not listed")
	}
	return out
}

func TestDashboardInBrowser(t *testing.T) {
	chrome := chromium(t)
	archive := &watermarkSource{}
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", sinkNode(archive), a.addr(t)) // a sink: a learns its archived watermark
	a.emit(t, 40, "door.open")
	b.emit(t, 25, "temperature")
	waitFor(t, 15*time.Second, "two nodes to converge", func() bool { return converged([]*testNode{a, b}, 65) })
	archive.set(map[string]uint64{a.ID(): 40, b.ID(): 25})
	putConfig(t, a, `{"sync_fanout": 2, "peer_bandwidth": 1048576}`)
	resp, err := http.Get(a.url + "/v1/trace?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantSessions := resp.StatusCode == http.StatusOK

	var chromeOut bytes.Buffer
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
		chromedp.CombinedOutput(&chromeOut),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate(a.url+"/")); err != nil {
		t.Fatalf("open the dashboard: %v\nchromium said:\n%s", err, chromeOut.String())
	}

	ids, types := []string{a.ID(), b.ID()}, []string{"door.open", "temperature"}
	probe := dashProbe{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		// Wait in the browser for the next refresh, then read the page.
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](
			`+(document.body.dataset.refreshes || 0) > `+strconv.Itoa(probe.Refreshes), chromedp.WithPollingTimeout(4*time.Second)))
		if err == nil {
			probe, err = chromedp.Run(ctx, chromedp.Evaluate[dashProbe](probeJS))
		}
		cancel()
		if err != nil {
			t.Fatalf("read the dashboard: %v", err)
		}
		problems := append(probe.problems(ids, wantSessions, types), probe.switchProblems()...)
		problems = append(problems, probe.archiveProblems(map[string]string{a.ID(): "40", b.ID(): "25"}, b.ID())...)
		if len(problems) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard after %d refreshes:\n  %s", probe.Refreshes, strings.Join(problems, "\n  "))
		}
	}

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, png)
}

// saveScreenshot writes the PNG to the test's temp dir and, when
// RUMOR_SCREENSHOT_DIR is set, there too.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("RUMOR_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, "dashboard.png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
