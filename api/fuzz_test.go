package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzPostEvents sends arbitrary bodies to the ingest endpoint: the answer
// is always 201 with one ack per event or a 4xx JSON error, never a 5xx,
// and a rejected body stores nothing.
func FuzzPostEvents(f *testing.F) {
	f.Add([]byte(`{"type":"a","payload":{"value":1}}`), false)
	f.Add([]byte("{\"type\":\"a\"}\n{\"type\":\"b\",\"ts\":5}\n"), true)
	f.Add([]byte(`{"type":"a","blobs":["bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"]}`), false)
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		ctype := "application/json"
		if ndjson {
			ctype = "application/x-ndjson"
		}
		before := e.store.Summary().Events
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		after := e.store.Summary().Events
		switch {
		case rec.Code == http.StatusCreated:
			var acks ackBody
			if err := json.Unmarshal(rec.Body.Bytes(), &acks); err != nil || uint64(len(acks.Events)) != after-before {
				t.Fatalf("201 with %d acks for %d stored events", len(acks.Events), after-before)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var eb struct{ Error string }
			if json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error == "" {
				t.Fatalf("%d without a JSON error: %q", rec.Code, rec.Body.String())
			}
			if after != before {
				t.Fatalf("rejected request stored %d events", after-before)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}

// FuzzQuery sends arbitrary query strings to the listing and aggregate
// endpoints: never a 5xx.
func FuzzQuery(f *testing.F) {
	f.Add("device=x&after=1&limit=5&type=t")
	f.Add("window=1m&from=2024-01-01T00:00:00Z&to=99")
	f.Add("order=time&since=1700000000000.0001&limit=3&type=t")
	f.Add("order=time&cursor=AQGLz-VoB3AHAQ&since=2024-01-01T00:00:00Z")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, path := range []string{"/v1/events?", "/v1/aggregates?"} {
			req, err := http.NewRequest("GET", path+q, nil)
			if err != nil {
				return
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s%s: %d %s", path, q, rec.Code, rec.Body.String())
			}
		}
	})
}
