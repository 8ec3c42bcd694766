package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

type env struct {
	srv     *httptest.Server
	handler http.Handler
	store   *store.Store
	device  string
}

// newEnv serves the API over a real store and blob store on disk.
func newEnv(t testing.TB) *env {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{7}))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Origin, cfg.Signer = t.TempDir(), id.String(), key
	cfg.Clock = clock.NewManual(time.UnixMilli(1_700_000_000_000))
	cfg.Logger = slog.New(slog.DiscardHandler)
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := cas.New(st.DB(), []byte{store.PrefixBlobs})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{
		Events: st, Blobs: blobs, MaxBody: 64 << 10, MaxBlob: 3 << 20, Logger: cfg.Logger, Redactor: st,
		Info: func() api.Info { return api.Info{DeviceID: id.String(), Role: "device"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{srv: srv, handler: s, store: st, device: id.String()}
}

func (e *env) do(t *testing.T, method, path, ctype string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
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
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type ackBody struct {
	Events []struct {
		EventID  string `json:"event_id"`
		DeviceID string `json:"device_id"`
		Seq      uint64 `json:"seq"`
	} `json:"events"`
}

func TestIngestAndQuery(t *testing.T) {
	e := newEnv(t)
	code, b := e.do(t, "POST", "/v1/events", "application/json", []byte(`{"type":"door","ts":1700000000123,"payload":{"open":true}}`))
	if code != 201 {
		t.Fatalf("single post: %d %s", code, b)
	}
	var one ackBody
	json.Unmarshal(b, &one)
	if len(one.Events) != 1 || one.Events[0].Seq != 1 || one.Events[0].DeviceID != e.device {
		t.Fatalf("ack %s", b)
	}
	nd := `{"type":"temp","payload":{"value":20}}` + "\n\n" + `{"type":"temp","schema":2,"payload":{"value":22}}` + "\n"
	code, b = e.do(t, "POST", "/v1/events", "application/x-ndjson", []byte(nd))
	var many ackBody
	json.Unmarshal(b, &many)
	if code != 201 || len(many.Events) != 2 || many.Events[0].Seq != 2 || many.Events[1].Seq != 3 {
		t.Fatalf("ndjson post: %d %s", code, b)
	}
	code, b = e.do(t, "GET", "/v1/events/"+one.Events[0].EventID, "", nil)
	var ev map[string]any
	json.Unmarshal(b, &ev)
	if code != 200 || ev["type"] != "door" || ev["ts"].(float64) != 1700000000123 || ev["schema"].(float64) != 1 {
		t.Fatalf("get event: %d %s", code, b)
	}
	code, b = e.do(t, "GET", "/v1/events?type=temp", "", nil)
	if lines := strings.Count(string(b), "\n"); code != 200 || lines != 2 {
		t.Fatalf("list by type: %d, %d lines", code, lines)
	}
	code, b = e.do(t, "GET", "/v1/events?device="+e.device+"&after=1&limit=1", "", nil)
	if code != 200 || !strings.Contains(string(b), `"seq":2`) || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("list after: %d %s", code, b)
	}
	code, b = e.do(t, "GET", "/v1/status", "", nil)
	var st map[string]any
	json.Unmarshal(b, &st)
	if code != 200 || st["events"].(float64) != 3 || st["device_id"] != e.device || len(st["digest"].(string)) != 64 {
		t.Fatalf("status: %s", b)
	}
	if vv := st["version_vector"].(map[string]any); vv[e.device].(float64) != 3 {
		t.Fatalf("version vector: %v", vv)
	}
	code, b = e.do(t, "GET", "/v1/aggregates?type=temp&window=1d", "", nil)
	if code != 200 || !strings.Contains(string(b), `"count":2`) || !strings.Contains(string(b), `"sum":42`) {
		t.Fatalf("aggregates: %d %s", code, b)
	}
}

// TestErrors checks every documented error, and that a rejected request
// stores nothing.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	big := `{"type":"x","payload":{"pad":"` + strings.Repeat("a", 70<<10) + `"}}`
	cid := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	cases := []struct {
		name, method, path, ctype, body string
		code                            int
		msg                             string
	}{
		{"malformed json", "POST", "/v1/events", "application/json", `{"type":`, 400, "malformed"},
		{"missing type", "POST", "/v1/events", "application/json", `{"payload":{}}`, 400, "type"},
		{"empty type", "POST", "/v1/events", "application/json", `{"type":""}`, 400, "type"},
		{"payload not object", "POST", "/v1/events", "application/json", `{"type":"x","payload":[1]}`, 400, "payload"},
		{"ts not numeric", "POST", "/v1/events", "application/json", `{"type":"x","ts":"soon"}`, 400, "ts"},
		{"bad cid", "POST", "/v1/events", "application/json", `{"type":"x","blobs":["nope"]}`, 400, "blobs"},
		{"array body", "POST", "/v1/events", "application/json", `[{"type":"x"}]`, 400, "ndjson"},
		{"ndjson bad line", "POST", "/v1/events", "application/x-ndjson", "{\"type\":\"ok\"}\n{\"type\":1}\n", 400, "line 2"},
		{"too large", "POST", "/v1/events", "application/json", big, 413, "exceeds"},
		{"content type", "POST", "/v1/events", "text/plain", `{"type":"x"}`, 415, "content type"},
		{"unknown event", "GET", "/v1/events/0190a3e8-0000-7000-8000-000000000000", "", "", 404, "not found"},
		{"bad event id", "GET", "/v1/events/xyz", "", "", 400, "UUID"},
		{"bad limit", "GET", "/v1/events?limit=0", "", "", 400, "limit"},
		{"after without device", "GET", "/v1/events?after=3", "", "", 400, "device"},
		{"bad device", "GET", "/v1/events?device=nope", "", "", 400, "device"},
		{"bad after", "GET", "/v1/events?device=12D3KooWLRPJAA5o6Gj3SDbvvwxWxpKJqpgqsCmXD3FoSbT9ZtYT&after=-1", "", "", 400, "after"},
		{"bad window", "GET", "/v1/aggregates?window=1w", "", "", 400, "window"},
		{"bad from", "GET", "/v1/aggregates?from=yesterday", "", "", 400, "from"},
		{"unknown blob", "GET", "/v1/blobs/" + cid, "", "", 404, "not found"},
		{"bad blob cid", "GET", "/v1/blobs/QmNotACid", "", "", 400, "CID"},
		{"unknown path", "GET", "/v2/nothing", "", "", 404, "no such endpoint"},
		{"wrong method", "DELETE", "/v1/status", "", "", 405, "method"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, b := e.do(t, tc.method, tc.path, tc.ctype, []byte(tc.body))
			var body struct{ Error string }
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("error body is not JSON: %q", b)
			}
			if code != tc.code || !strings.Contains(strings.ToLower(body.Error), strings.ToLower(tc.msg)) {
				t.Fatalf("got %d %q, want %d containing %q", code, body.Error, tc.code, tc.msg)
			}
		})
	}
	if n := e.store.Summary().Events; n != 0 {
		t.Fatalf("rejected requests stored %d events", n)
	}
}

func TestBlobs(t *testing.T) {
	e := newEnv(t)
	data := make([]byte, 2<<20+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	code, b := e.do(t, "POST", "/v1/blobs", "application/octet-stream", data)
	var put struct {
		CID  string `json:"cid"`
		Size int64  `json:"size"`
	}
	json.Unmarshal(b, &put)
	if code != 201 || put.Size != int64(len(data)) {
		t.Fatalf("put blob: %d %s", code, b)
	}
	code, got := e.do(t, "GET", "/v1/blobs/"+put.CID, "", nil)
	if code != 200 || !bytes.Equal(got, data) {
		t.Fatalf("get blob: %d, %d bytes", code, len(got))
	}
	small := []byte("hello rumor\n")
	_, b = e.do(t, "POST", "/v1/blobs", "", small)
	json.Unmarshal(b, &put)
	if !strings.HasPrefix(put.CID, "bafkrei") {
		t.Fatalf("small blob CID %q is not a raw sha2-256 CIDv1", put.CID)
	}
	code, b = e.do(t, "POST", "/v1/blobs", "", make([]byte, 3<<20+1))
	if code != 413 {
		t.Fatalf("oversize blob: %d %s", code, b)
	}
	ev := fmt.Sprintf(`{"type":"photo","blobs":[%q]}`, put.CID)
	if code, b := e.do(t, "POST", "/v1/events", "application/json", []byte(ev)); code != 201 {
		t.Fatalf("event with blob: %d %s", code, b)
	}
}
