package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// peerStore opens a second device's store whose clock reads t.
func peerStore(t *testing.T, seed byte, at time.Time) *store.Store {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Origin, cfg.Signer = t.TempDir(), id.String(), key
	cfg.Clock = clock.NewManual(at)
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// getPage fetches one page and returns its events and next cursor.
func (e *env) getPage(t *testing.T, query string) ([]event.JSON, string) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/v1/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("GET %s: %d %s", query, resp.StatusCode, body)
	}
	var out []event.JSON
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var ev event.JSON
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		out = append(out, ev)
	}
	return out, resp.Header.Get(api.NextCursorHeader)
}

func jsonPos(j event.JSON) string { return fmt.Sprintf("%s/%s/%d", j.HLC, j.DeviceID, j.Seq) }

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTimeOrderedListing(t *testing.T) {
	e := newEnv(t) // clock at 1_700_000_000_000
	other := peerStore(t, 9, time.UnixMilli(1_700_000_000_000))
	behind := peerStore(t, 10, time.UnixMilli(1_699_999_999_000))
	for _, s := range []*store.Store{other, behind} {
		if _, err := s.Ingest(context.Background(), []event.Input{{Type: "a", Payload: json.RawMessage(`{}`)}, {Type: "b", Payload: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	code, b := e.do(t, "POST", "/v1/events", "application/x-ndjson", []byte("{\"type\":\"a\"}\n{\"type\":\"b\"}\n{\"type\":\"a\"}\n"))
	if code != 201 {
		t.Fatalf("ingest: %d %s", code, b)
	}
	for _, s := range []*store.Store{other, behind} {
		var evs []*event.Event
		s.Scan(store.Query{}, func(ev *event.Event) error { evs = append(evs, ev); return nil })
		seal, _ := s.Seal(s.Origin())
		if _, err := e.store.Apply(context.Background(), evs, []event.Seal{seal}); err != nil {
			t.Fatal(err)
		}
	}
	all, cursor := e.getPage(t, "order=time")
	if len(all) != 7 || cursor == "" {
		t.Fatalf("whole view: %d events, cursor %q", len(all), cursor)
	}
	// Sorted by (hlc, device, seq); the device that is a second behind first.
	for i, ev := range all {
		h, err := event.ParseHLC(ev.HLC)
		if err != nil {
			t.Fatal(err)
		}
		if id := event.HLCOf(mustUUID(t, ev.EventID)); id != h {
			t.Fatalf("event %s: hlc %s is not its id's %v", ev.EventID, ev.HLC, id)
		}
		if i > 0 {
			p, _ := event.ParseHLC(all[i-1].HLC)
			c := p.Compare(h)
			if c > 0 || c == 0 && (all[i-1].DeviceID > ev.DeviceID || all[i-1].DeviceID == ev.DeviceID && all[i-1].Seq >= ev.Seq) {
				t.Fatalf("events %d and %d out of order: %s %s", i-1, i, jsonPos(all[i-1]), jsonPos(ev))
			}
		}
	}
	if all[0].DeviceID != behind.Origin() || all[1].DeviceID != behind.Origin() {
		t.Fatalf("the device whose clock is behind does not come first: %s", all[0].DeviceID)
	}
	// Paging by cursor returns the same sequence.
	var paged []event.JSON
	q := "order=time&limit=2"
	for range 10 {
		page, next := e.getPage(t, q)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		q = "order=time&limit=2&cursor=" + next
	}
	if !slices.EqualFunc(paged, all, func(a, b event.JSON) bool { return a.EventID == b.EventID }) {
		t.Fatalf("paged %d events differ from the whole view's %d", len(paged), len(all))
	}
	// since: from the first of this node's own events, inclusive.
	since, _ := e.getPage(t, "order=time&since="+all[2].HLC)
	if len(since) != 5 || since[0].EventID != all[2].EventID {
		t.Fatalf("since %s: %d events", all[2].HLC, len(since))
	}
	if got, _ := e.getPage(t, "order=time&since=2023-11-14T22:13:20Z"); len(got) != 5 {
		t.Fatalf("since as RFC 3339: %d events, want 5", len(got))
	}
	if got, _ := e.getPage(t, "order=time&type=b&device="+other.Origin()); len(got) != 1 || got[0].Type != "b" {
		t.Fatalf("type and device filters: %+v", got)
	}
	// The last page's cursor resumes after everything: an empty page.
	_, last := e.getPage(t, "order=time&limit=7")
	if rest, next := e.getPage(t, "order=time&cursor="+last); len(rest) != 0 || next != "" {
		t.Fatalf("after the end: %d events, cursor %q", len(rest), next)
	}
	// The default order is unchanged: by device, then seq.
	byDevice, _ := e.getPage(t, "")
	if len(byDevice) != 7 || byDevice[0].HLC == "" {
		t.Fatalf("default listing: %d events", len(byDevice))
	}
	// The status shows the node's HLC, at or above every event it holds.
	var st struct{ HLC string }
	_, b = e.do(t, "GET", "/v1/status", "", nil)
	json.Unmarshal(b, &st)
	h, err := event.ParseHLC(st.HLC)
	top, _ := event.ParseHLC(all[len(all)-1].HLC)
	if err != nil || h.Compare(top) < 0 {
		t.Fatalf("status hlc %q below the newest event %v", st.HLC, top)
	}
}

func TestTimeOrderedErrors(t *testing.T) {
	e := newEnv(t)
	good := "AQGLz-VoB3AHAQ"
	for name, q := range map[string]string{
		"bad order":          "order=random",
		"bad cursor":         "order=time&cursor=" + good,
		"empty cursor":       "order=time&cursor=",
		"bad since":          "order=time&since=yesterday",
		"since counter":      "order=time&since=5.4096",
		"after":              "order=time&after=3",
		"since without time": "since=5",
		"cursor w/o time":    "cursor=" + good,
		"bad limit":          "order=time&limit=0",
		"bad device":         "order=time&device=x",
	} {
		code, b := e.do(t, "GET", "/v1/events?"+q, "", nil)
		var body struct{ Error string }
		if code != 400 || json.Unmarshal(b, &body) != nil || body.Error == "" {
			t.Errorf("%s (%s): %d %s", name, q, code, b)
		}
		if name == "bad cursor" && !strings.Contains(body.Error, "cursor") {
			t.Errorf("bad cursor error does not name it: %q", body.Error)
		}
	}
}
