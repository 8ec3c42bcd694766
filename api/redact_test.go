package api_test

import (
	"context"
	"encoding/json"
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
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

func TestDeleteEvent(t *testing.T) {
	e := newEnv(t)
	code, body := e.do(t, "POST", "/v1/events", "application/x-ndjson",
		[]byte(`{"type":"t","payload":{"secret":"x","value":2}}`+"\n"+`{"type":"t","payload":{"value":3}}`))
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	var acks struct {
		Events []struct {
			EventID string `json:"event_id"`
		}
	}
	_ = json.Unmarshal(body, &acks)
	id := acks.Events[0].EventID

	code, body = e.do(t, "DELETE", "/v1/events/"+id, "", nil)
	var red api.RedactionJSON
	if err := json.Unmarshal(body, &red); err != nil || code != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if red.EventID != id || red.Seq != 1 || !red.Redacted || red.RedactedBy != e.device || red.Redaction == nil || red.Redaction.Seq != 3 {
		t.Fatalf("DELETE answered %+v", red)
	}
	code, body = e.do(t, "GET", "/v1/events/"+id, "", nil)
	var got event.JSON
	_ = json.Unmarshal(body, &got)
	if code != http.StatusOK || !got.Redacted || string(got.Payload) != "{}" || strings.Contains(string(body), "secret") {
		t.Fatalf("GET after DELETE: %d %s", code, body)
	}
	code, body = e.do(t, "DELETE", "/v1/events/"+id, "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"redaction":null`) {
		t.Fatalf("second DELETE: %d %s", code, body)
	}
	_, list := e.do(t, "GET", "/v1/events?type="+event.RedactionType, "", nil)
	var re event.JSON
	_ = json.Unmarshal(list, &re)
	code, body = e.do(t, "DELETE", "/v1/events/"+re.EventID, "", nil)
	if code != http.StatusConflict {
		t.Fatalf("DELETE of the redaction event: %d %s", code, body)
	}
	for path, want := range map[string]int{
		"/v1/events/not-a-uuid":                           http.StatusBadRequest,
		"/v1/events/019ab3c4-0000-7000-8000-000000000000": http.StatusNotFound,
	} {
		if code, body := e.do(t, "DELETE", path, "", nil); code != want {
			t.Errorf("DELETE %s: %d %s, want %d", path, code, body, want)
		}
	}
	for _, b := range []string{
		`{"type":"rumor.redaction","payload":{}}`,
	} {
		if code, body := e.do(t, "POST", "/v1/events", "application/json", []byte(b)); code != http.StatusBadRequest || !strings.Contains(string(body), "reserved") {
			t.Errorf("POST of the reserved type: %d %s", code, body)
		}
	}
	if code, body := e.do(t, "POST", "/v1/events", "application/x-ndjson",
		[]byte(`{"type":"ok"}`+"\n"+`{"type":"rumor.redaction"}`)); code != http.StatusBadRequest || !strings.Contains(string(body), "event 2") {
		t.Errorf("NDJSON with the reserved type: %d %s", code, body)
	}
}

// TestDeleteOtherDevicesEvent: a device that is not an operator gets 403
// for another device's event.
func TestDeleteOtherDevicesEvent(t *testing.T) {
	e := newEnv(t)
	key, _, _ := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{9}))
	id, _ := peer.IDFromPrivateKey(key)
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Origin, cfg.Signer = t.TempDir(), id.String(), key
	cfg.Clock = clock.NewManual(time.UnixMilli(1_700_000_000_000))
	cfg.Logger = slog.New(slog.DiscardHandler)
	other, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	acks, err := other.Ingest(context.Background(), []event.Input{{Type: "t", Schema: 1, Payload: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	var events []*event.Event
	_ = other.Scan(store.Query{}, func(x *event.Event) error { events = append(events, x); return nil })
	seal, _ := other.Seal(id.String())
	if _, err := e.store.Apply(context.Background(), events, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	code, body := e.do(t, "DELETE", "/v1/events/"+acks[0].EventID.String(), "", nil)
	if code != http.StatusForbidden || !strings.Contains(string(body), "operator") {
		t.Fatalf("DELETE of another device's event: %d %s", code, body)
	}
}

// FuzzDeleteEvent sends arbitrary ids to DELETE /v1/events/{id}: never a
// 5xx, and only a held event's id redacts anything.
func FuzzDeleteEvent(f *testing.F) {
	e := newEnv(f)
	acks, err := e.store.Ingest(context.Background(), []event.Input{{Type: "t", Schema: 1, Payload: []byte(`{}`)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(acks[0].EventID.String())
	f.Add("019ab3c4-0000-7000-8000-000000000000")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, id string) {
		req, err := http.NewRequest("DELETE", "/v1/events/"+id, nil)
		if err != nil {
			return
		}
		before := e.store.Summary().Events
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		grew := e.store.Summary().Events - before
		switch {
		case rec.Code == http.StatusAccepted && grew == 1:
		case rec.Code < 500 && rec.Code != http.StatusAccepted && grew == 0:
		default:
			t.Fatalf("DELETE %q: %d (%d events stored): %s", id, rec.Code, grew, rec.Body.String())
		}
	})
}
