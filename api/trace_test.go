package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/store"
)

const testPeer = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"

// noBlobs is a BlobStore for tests that never touch blobs.
type noBlobs struct{}

func (noBlobs) Put(context.Context, io.Reader, int64) (cid.Cid, int64, error) {
	return cid.Undef, 0, errors.New("no blobs")
}
func (noBlobs) Open(context.Context, cid.Cid) (io.ReadCloser, int64, error) {
	return nil, 0, errors.New("no blobs")
}

// traceServer serves the API over e's store with the given trace and
// readiness funcs.
func traceServer(t testing.TB, trace func(context.Context, api.TraceQuery) (any, error), ready func() error) http.Handler {
	t.Helper()
	e := newEnv(t)
	s, err := api.New(api.Config{
		Events: e.store, Blobs: noBlobs{}, MaxBody: 1 << 20, MaxBlob: 1 << 20,
		Info:  func() api.Info { return api.Info{DeviceID: e.device} },
		Trace: trace, Ready: ready,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t testing.TB, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: %d, body not JSON: %q", path, rec.Code, rec.Body.String())
	}
	return rec.Code, body
}

func TestParseTraceQuery(t *testing.T) {
	id := uuid.MustParse("019ab3c4-0000-7000-8000-000000000001")
	for _, tc := range []struct {
		raw  string
		want api.TraceQuery
	}{
		{"", api.TraceQuery{Limit: api.DefaultTraceLimit}},
		{"limit=5", api.TraceQuery{Limit: 5}},
		{"limit=1024&peer=" + testPeer, api.TraceQuery{Limit: 1024, Peer: testPeer}},
		{"limit=&peer=&event_id=", api.TraceQuery{Limit: api.DefaultTraceLimit}},
		{"event_id=" + id.String(), api.TraceQuery{EventID: id}},
		{"event_id=" + strings.ReplaceAll(id.String(), "-", ""), api.TraceQuery{EventID: id}},
	} {
		got, err := api.ParseTraceQuery(tc.raw)
		if err != nil || got != tc.want {
			t.Errorf("ParseTraceQuery(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
	for _, raw := range []string{
		"limit=0", "limit=1025", "limit=-1", "limit=x", "limit=1&limit=2",
		"peer=nobody", "event_id=nope", "event_id=00000000-0000-0000-0000-000000000000",
		"event_id=" + id.String() + "&limit=3", "event_id=" + id.String() + "&peer=" + testPeer,
		"device=x", "%zz", "limit=1;peer=x",
	} {
		if q, err := api.ParseTraceQuery(raw); !errors.Is(err, api.ErrInvalidQuery) {
			t.Errorf("ParseTraceQuery(%q) = %+v, %v; want ErrInvalidQuery", raw, q, err)
		}
	}
}

func TestTraceEndpoint(t *testing.T) {
	missing := uuid.MustParse("019ab3c4-0000-7000-8000-0000000000ff")
	var got api.TraceQuery
	h := traceServer(t, func(_ context.Context, q api.TraceQuery) (any, error) {
		got = q
		switch {
		case q.EventID == missing:
			return nil, fmt.Errorf("%w: event %s is older than the trace", api.ErrNotTraced, q.EventID)
		case q.EventID != uuid.Nil:
			return nil, fmt.Errorf("%w: event %s", store.ErrNotFound, q.EventID)
		}
		return api.TraceList{Sessions: []api.TraceSession{{ID: "s1", Peer: q.Peer, Result: "ok"}}}, nil
	}, nil)

	code, body := get(t, h, "/v1/trace?limit=7&peer="+testPeer)
	if code != 200 || got != (api.TraceQuery{Limit: 7, Peer: testPeer}) {
		t.Fatalf("list: %d %v, query %+v", code, body, got)
	}
	if s := body["sessions"].([]any); len(s) != 1 || s[0].(map[string]any)["id"] != "s1" {
		t.Fatalf("list body %v", body)
	}
	for path, want := range map[string]int{
		"/v1/trace?event_id=" + missing.String():              404,
		"/v1/trace?event_id=" + uuid.NewString():              404,
		"/v1/trace?limit=0":                                   400,
		"/v1/trace?peer=x":                                    400,
		"/v1/trace?bogus=1":                                   400,
		"/v1/trace?event_id=" + uuid.NewString() + "&limit=1": 400,
	} {
		if code, body := get(t, h, path); code != want || body["error"] == "" || body["error"] == nil {
			t.Errorf("GET %s: %d %v, want %d with an error", path, code, body, want)
		}
	}
}

func TestTraceUnavailable(t *testing.T) {
	h := traceServer(t, nil, nil)
	if code, body := get(t, h, "/v1/trace"); code != 404 || body["error"] == nil {
		t.Fatalf("no trace func: %d %v", code, body)
	}
}

func TestReadyz(t *testing.T) {
	var why error
	h := traceServer(t, nil, func() error { return why })
	if code, body := get(t, h, "/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("ready: %d %v", code, body)
	}
	why = errors.New("network is down")
	if code, body := get(t, h, "/readyz"); code != 503 || body["error"] != "network is down" {
		t.Fatalf("not ready: %d %v", code, body)
	}
	if code, body := get(t, traceServer(t, nil, nil), "/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("no readiness func: %d %v", code, body)
	}
}

// FuzzTraceQuery feeds arbitrary query strings to the trace query parser
// and endpoint: the parser accepts only what it can encode back to the
// same query, within bounds, and rejects the rest with ErrInvalidQuery;
// the endpoint answers 200 or 400, never anything else.
func FuzzTraceQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=5", "limit=1024&peer=" + testPeer, "event_id=019ab3c4-0000-7000-8000-000000000001",
		"peer=&limit=", "limit=1&limit=2", "event_id={019ab3c4-0000-7000-8000-000000000001}", "%zz&a=;",
	} {
		f.Add(s)
	}
	h := traceServer(f, func(_ context.Context, q api.TraceQuery) (any, error) {
		return api.TraceList{Sessions: []api.TraceSession{}}, nil
	}, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		q, perr := api.ParseTraceQuery(raw)
		if perr != nil {
			if !errors.Is(perr, api.ErrInvalidQuery) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidQuery", raw, perr)
			}
		} else {
			if (q.EventID == uuid.Nil) != (q.Limit >= 1 && q.Limit <= api.MaxTraceLimit) {
				t.Fatalf("%q: parsed %+v out of bounds", raw, q)
			}
			back, err := api.ParseTraceQuery(q.Encode())
			if err != nil || back != q {
				t.Fatalf("%q: %+v encodes to %q, which parses to %+v, %v", raw, q, q.Encode(), back, err)
			}
		}
		req, err := http.NewRequest("GET", "/v1/trace", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if want := map[bool]int{true: 200, false: 400}[perr == nil]; rec.Code != want {
			t.Fatalf("%q: status %d, want %d: %s", raw, rec.Code, want, rec.Body.String())
		}
	})
}
