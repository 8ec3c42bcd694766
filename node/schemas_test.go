package node

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip"
)

// strictReadings requires a numeric value and a known door on readings of
// schema version 1.
const strictReadings = `{"reading": {"1": {"type": "object", "required": ["value"],
  "properties": {"value": {"type": "number"}, "door": {"enum": ["north", "south"]}}}}}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadSchemaRegistryStopsStart(t *testing.T) {
	path := writeFile(t, "schemas.json", `{"reading": {"v1": {"type": "object"}}}`)
	cfg := loopbackConfig(t, "", nil)
	cfg.Offline, cfg.SchemasFile = true, path
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `version "v1"`) {
		t.Fatalf("New with a bad registry: %v", err)
	}
	cfg.SchemasFile = filepath.Join(t.TempDir(), "none.json")
	if _, err := New(cfg); err == nil {
		t.Fatal("New with a missing registry file succeeded")
	}
}

// TestSchemasAtIngest posts and publishes payloads that fail the registry:
// HTTP answers 400 naming the event's index and the failing field, MQTT 5
// a negative PUBACK naming it; nothing is stored and both are counted.
func TestSchemasAtIngest(t *testing.T) {
	path := writeFile(t, "schemas.json", strictReadings)
	n := startTestNode(t, "", func(c *Config) { c.Offline, c.MQTTAddr, c.SchemasFile = true, "127.0.0.1:0", path })
	cases := []struct {
		name, ctype, body string
		index             int
		pointer           string
	}{
		{"single", "application/json", `{"type":"reading","payload":{"value":"high"}}`, 0, "/value"},
		{"missing field", "application/json", `{"type":"reading","schema":1,"payload":{}}`, 0, "/value"},
		{"third of a batch", "application/x-ndjson",
			"{\"type\":\"reading\",\"payload\":{\"value\":1}}\n\n{\"type\":\"other\",\"payload\":{\"value\":\"x\"}}\n{\"type\":\"reading\",\"payload\":{\"value\":2,\"door\":\"east\"}}\n", 2, "/door"},
	}
	for _, tc := range cases {
		code, _, b := n.httpDo(t, "POST", "/v1/events", tc.ctype, []byte(tc.body))
		var body struct {
			Error   string `json:"error"`
			Index   int    `json:"event_index"`
			Pointer string `json:"pointer"`
		}
		if err := json.Unmarshal(b, &body); err != nil || code != 400 || body.Index != tc.index || body.Pointer != tc.pointer ||
			!strings.Contains(body.Error, tc.pointer) || !strings.Contains(body.Error, "reading") {
			t.Errorf("%s: %d %s", tc.name, code, b)
		}
	}
	if got := n.Store().Summary().Events; got != 0 {
		t.Fatalf("rejected requests stored %d events", got)
	}
	// A valid payload, another type and another version pass.
	ok := "{\"type\":\"reading\",\"payload\":{\"value\":1.5,\"door\":\"north\"}}\n{\"type\":\"other\",\"payload\":{\"value\":\"x\"}}\n{\"type\":\"reading\",\"schema\":2,\"payload\":{\"value\":\"x\"}}\n"
	if code, _, b := n.httpDo(t, "POST", "/v1/events", "application/x-ndjson", []byte(ok)); code != 201 {
		t.Fatalf("valid batch: %d %s", code, b)
	}
	c := dialMQTT(t, n.MQTTAddr(), nil)
	resp, err := publish(c, "rumor/events/reading", 1, `{"value":[1]}`)
	if err == nil || resp == nil || resp.ReasonCode != 0x99 || resp.Properties == nil || !strings.Contains(resp.Properties.ReasonString, "/value") {
		t.Fatalf("MQTT publish failing the registry: %v %+v", err, resp)
	}
	if _, err := publish(c, "rumor/events/reading", 1, `{"value":7}`); err != nil {
		t.Fatalf("valid MQTT publish: %v", err)
	}
	if got := n.Store().Summary().Events; got != 4 {
		t.Fatalf("%d events stored, want 4", got)
	}
	if got := n.MQTTStats().Rejected[RejectSchema]; got != 1 {
		t.Fatalf("MQTT schema rejections: %d", got)
	}
	_, _, text := n.httpDo(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(text), `rumor_events_rejected_total{peer="",reason="mqtt_schema"} 1`) {
		t.Fatalf("metrics lack the MQTT schema rejection:\n%s", grepLines(string(text), "rumor_events_rejected"))
	}
}

func ingestReadings(t *testing.T, n *testNode, values ...string) {
	t.Helper()
	in := make([]event.Input, len(values))
	for i, v := range values {
		in[i] = event.Input{Type: "reading", Schema: 1, Payload: json.RawMessage(`{"value":` + v + `}`)}
	}
	if _, err := n.Store().Ingest(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// heldSeqs lists which of origin's seqs 1..max n holds.
func heldSeqs(n *testNode, origin string, max uint64) []uint64 {
	var out []uint64
	for s := uint64(1); s <= max; s++ {
		if n.Store().Holds(crdt.Dot{Origin: origin, Seq: s}) {
			out = append(out, s)
		}
	}
	return out
}

func seqList(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// TestSchemasOnReceipt runs a node without a registry (a, the origin) and
// one with it (b). b refuses a's event that fails its schema, with the
// events of the same sealed run before it, applies everything after it
// (by session and by push), counts the refusals against a, and once b
// restarts with a registry that accepts the event, the refused events
// arrive and the two converge.
func TestSchemasOnReceipt(t *testing.T) {
	a := startTestNode(t, "", nil)
	ingestReadings(t, a, "1", "2", "3", "4", "5") // seqs 1-5
	ingestReadings(t, a, "6", `"seven"`, "8")     // seq 7 fails b's schema
	ingestReadings(t, a, "9", "10", "11", "12")
	strict := writeFile(t, "strict.json", strictReadings)
	b := startTestNode(t, "", func(c *Config) { c.SchemasFile = strict }, a.addr(t))
	// The catch-up session sends seqs 1-12 as one sealed run: 8-12 are
	// covered by its seal and applied; 7 and those before it are refused.
	waitFor(t, 15*time.Second, "b to apply a's events after the failing one", func() bool {
		return b.Store().Holds(crdt.Dot{Origin: a.ID(), Seq: 12})
	})
	if got := heldSeqs(b, a.ID(), 12); !slices.Equal(got, seqList(8, 12)) {
		t.Fatalf("b holds a's seqs %v, want 8-12", got)
	}
	if got := b.Replicator().Rejections()[a.Mesh().ID()][gossip.RejectSchema]; got < 7 {
		t.Fatalf("b counted %d schema rejections from a, want at least 7", got)
	}
	// Push: a failing event alone is refused, the next one applied.
	ingestReadings(t, a, `{"bad":1}`) // seq 13
	ingestReadings(t, a, "14")
	waitFor(t, 15*time.Second, "b to apply a's event after a refused push", func() bool {
		return b.Store().Holds(crdt.Dot{Origin: a.ID(), Seq: 14})
	})
	if got := heldSeqs(b, a.ID(), 14); !slices.Equal(got, append(seqList(8, 12), 14)) {
		t.Fatalf("b holds a's seqs %v, want 8-12 and 14", got)
	}
	if h := b.healthReport(); h.Completeness >= 1 {
		t.Fatalf("b reports completeness %v despite the refused events", h.Completeness)
	}
	_, _, text := b.httpDo(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(text), `reason="schema"`) {
		t.Fatalf("b's metrics lack the schema rejections:\n%s", grepLines(string(text), "rumor_events_rejected"))
	}
	// b's registry is fixed (the schema accepts any value now): the
	// refused events are offered again and accepted.
	b.stop()
	relaxed := writeFile(t, "relaxed.json", `{"reading": {"1": {"type": "object"}}}`)
	b = startTestNode(t, b.dir, func(c *Config) { c.SchemasFile = relaxed }, a.addr(t))
	b.emit(t, 1, "from-b")
	waitFor(t, 20*time.Second, "a and b to converge once the registries agree", func() bool {
		return converged([]*testNode{a, b}, 15)
	})
}
