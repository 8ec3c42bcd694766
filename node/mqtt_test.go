package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

func TestMQTTInput(t *testing.T) {
	long := strings.Repeat("t", event.MaxTypeLen)
	tests := []struct {
		name, topic, body string
		ours              bool
		reason            string // "" when accepted
		payload           string // compact payload when accepted
	}{
		{"object", "rumor/events/door.open", `{"door": "north", "value": 1}`, true, "", `{"door":"north","value":1}`},
		{"empty object", "rumor/events/ping", ` {} `, true, "", `{}`},
		{"longest type", "rumor/events/" + long, `{}`, true, "", `{}`},
		{"sub-levels are part of the type", "rumor/events/a/b", `{}`, true, "", `{}`},
		{"other topic", "sensors/temp", `not json`, false, "", ""},
		{"prefix without slash", "rumor/eventsx", `{}`, false, "", ""},
		{"bare prefix", "rumor/events", `{}`, true, RejectTopic, ""},
		{"empty type", "rumor/events/", `{}`, true, RejectTopic, ""},
		{"type too long", "rumor/events/" + long + "x", `{}`, true, RejectTopic, ""},
		{"type not UTF-8", "rumor/events/\xff", `{}`, true, RejectTopic, ""},
		{"not JSON", "rumor/events/t", `{"a":`, true, RejectMalformed, ""},
		{"empty body", "rumor/events/t", ``, true, RejectMalformed, ""},
		{"two objects", "rumor/events/t", `{}{}`, true, RejectMalformed, ""},
		{"array", "rumor/events/t", `[1]`, true, RejectNotObject, ""},
		{"string", "rumor/events/t", `"x"`, true, RejectNotObject, ""},
		{"null", "rumor/events/t", `null`, true, RejectNotObject, ""},
		{"too large", "rumor/events/t", `{"a":"` + strings.Repeat("x", event.MaxPayloadLen) + `"}`, true, RejectInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, ours := topicType(tt.topic)
			if ours != tt.ours {
				t.Fatalf("topicType(%q) ours = %v, want %v", tt.topic, ours, tt.ours)
			}
			if !ours {
				return
			}
			in, reason, err := mqttInput(typ, []byte(tt.body))
			if reason != tt.reason || (err == nil) != (tt.reason == "") {
				t.Fatalf("reason %q, err %v; want reason %q", reason, err, tt.reason)
			}
			if err != nil {
				return
			}
			if in.Type != typ || string(in.Payload) != tt.payload || in.HasTS || len(in.Blobs) != 0 || in.Schema != event.DefaultSchema {
				t.Fatalf("input %+v (payload %s), want type %q payload %s", in, in.Payload, typ, tt.payload)
			}
		})
	}
}

var clientSeq atomic.Int64 // makes MQTT client ids unique

// dialMQTT connects an MQTT 5 client (paho) to addr; received, if not nil,
// gets every message delivered to the client's subscriptions.
func dialMQTT(t *testing.T, addr string, received chan<- *paho.Publish) *paho.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{Conn: conn}
	if received != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) { received <- pr.Packet; return true, nil },
		}
	}
	c := paho.NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id := fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), clientSeq.Add(1))
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if ca.ReasonCode != 0 {
		t.Fatalf("connect: reason code %#x", ca.ReasonCode)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c
}

func publish(c *paho.Client, topic string, qos byte, body string) (*paho.PublishResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(body)})
}

// gate is an ingester that holds each call until the test releases it.
type gate struct {
	called  chan event.Input
	release chan error
}

func (g *gate) Ingest(_ context.Context, in []event.Input) ([]store.Ack, error) {
	g.called <- in[0]
	if err := <-g.release; err != nil {
		return nil, err
	}
	return make([]store.Ack, len(in)), nil
}

// TestMQTTAckWaitsForIngest holds the store's Ingest and checks that the
// client's QoS 1 publish does not complete (no PUBACK) until it returns,
// and that a failed Ingest is answered with a negative PUBACK.
func TestMQTTAckWaitsForIngest(t *testing.T) {
	g := &gate{called: make(chan event.Input), release: make(chan error)}
	b, err := startBroker(context.Background(), "127.0.0.1:0", 1<<20, g, nil, logger())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	c := dialMQTT(t, b.addr, nil)

	type result struct {
		resp *paho.PublishResponse
		err  error
	}
	for _, storeErr := range []error{nil, store.ErrClosed} {
		done := make(chan result, 1)
		go func() {
			resp, err := publish(c, "rumor/events/held", 1, `{"n":1}`)
			done <- result{resp, err}
		}()
		if in := <-g.called; in.Type != "held" || string(in.Payload) != `{"n":1}` {
			t.Fatalf("ingested %+v", in)
		}
		// Ingest has not returned, so mochi cannot have written the PUBACK.
		select {
		case r := <-done:
			t.Fatalf("publish completed (%+v) before the event was durable", r)
		default:
		}
		g.release <- storeErr
		r := <-done
		if storeErr == nil && (r.err != nil || r.resp.ReasonCode != 0) {
			t.Fatalf("publish after durable ingest: %v %+v", r.err, r.resp)
		}
		if storeErr != nil && (r.err == nil || r.resp == nil || r.resp.ReasonCode != 0x88) {
			t.Fatalf("publish after failed ingest: %v %+v, want reason 0x88 (server unavailable)", r.err, r.resp)
		}
	}
	if s := b.hook.stats(); s.Received != 2 || s.Ingested != 1 || s.Rejected[RejectStore] != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// getEvents lists events of a type through the node's HTTP API.
func getEvents(t *testing.T, n *Node, typ string) []event.JSON {
	t.Helper()
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/events?type="+typ, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/events: %d %s", rec.Code, rec.Body)
	}
	var out []event.JSON
	dec := json.NewDecoder(rec.Body)
	for {
		var e event.JSON
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

func startMQTTNode(t *testing.T) *testNode {
	return startTestNode(t, "", func(c *Config) { c.Offline, c.MQTTAddr = true, "127.0.0.1:0" })
}

// TestMQTTIngest publishes with an MQTT 5 client to a real node: good
// messages at QoS 0, 1 and 2 become events, bad ones are refused with a
// reason code, stored nowhere, and the connection stays usable.
func TestMQTTIngest(t *testing.T) {
	n := startMQTTNode(t)
	received := make(chan *paho.Publish, 16)
	sub := dialMQTT(t, n.MQTTAddr(), received)
	if _, err := sub.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "rumor/events/#", QoS: 1}, {Topic: "plain/#", QoS: 1},
	}}); err != nil {
		t.Fatal(err)
	}
	c := dialMQTT(t, n.MQTTAddr(), nil)

	// QoS 1: once acknowledged, the event is there (read-your-writes).
	if _, err := publish(c, "rumor/events/door.open", 1, `{"door":"north","value":1}`); err != nil {
		t.Fatal(err)
	}
	got := getEvents(t, n.Node, "door.open")
	if len(got) != 1 || string(got[0].Payload) != `{"door":"north","value":1}` || got[0].DeviceID != n.ID() {
		t.Fatalf("after QoS 1 ack: %+v", got)
	}

	// Bad messages: a negative PUBACK each; nothing stored.
	bad := []struct{ topic, body string }{
		{"rumor/events/door.open", `{"door":`},
		{"rumor/events/door.open", `[1,2]`},
		{"rumor/events/", `{}`},
		{"rumor/events/" + strings.Repeat("t", event.MaxTypeLen+1), `{}`},
	}
	codes := []byte{0x99, 0x99, 0x90, 0x90}
	for i, m := range bad {
		resp, err := publish(c, m.topic, 1, m.body)
		if err == nil || resp == nil || resp.ReasonCode != codes[i] {
			t.Fatalf("bad message %d: %v %+v, want reason %#x", i, err, resp, codes[i])
		}
	}
	// QoS 2: PUBREC once durable, or a negative PUBREC.
	if resp, err := publish(c, "rumor/events/q2", 2, `[]`); err != nil || resp.ReasonCode != 0x99 {
		t.Fatalf("bad QoS 2 message: %v %+v, want reason 0x99", err, resp)
	}
	if _, err := publish(c, "rumor/events/q2", 2, `{"i":2}`); err != nil {
		t.Fatal(err)
	}
	if got := getEvents(t, n.Node, "q2"); len(got) != 1 || string(got[0].Payload) != `{"i":2}` {
		t.Fatalf("QoS 2 events: %+v", got)
	}
	// QoS 0 (no ack), then QoS 1 on the same connection: when the second
	// is acknowledged the first, read before it, has been stored too.
	if _, err := publish(c, "rumor/events/q0", 0, `{"i":0}`); err != nil {
		t.Fatal(err)
	}
	if _, err := publish(c, "rumor/events/q0", 0, `not json`); err != nil {
		t.Fatal(err)
	}
	if _, err := publish(c, "rumor/events/q1", 1, `{"i":1}`); err != nil {
		t.Fatalf("connection unusable after rejected messages: %v", err)
	}
	if got := getEvents(t, n.Node, "q0"); len(got) != 1 || string(got[0].Payload) != `{"i":0}` {
		t.Fatalf("QoS 0 events: %+v", got)
	}
	if got := getEvents(t, n.Node, ""); len(got) != 4 {
		t.Fatalf("%d events stored, want 4", len(got))
	}

	// Plain MQTT passes through; subscribers see ingested messages only.
	if _, err := publish(c, "plain/topic", 1, `anything`); err != nil {
		t.Fatal(err)
	}
	var topics []string
	for len(topics) < 5 {
		select {
		case p := <-received:
			topics = append(topics, p.Topic)
		case <-time.After(5 * time.Second):
			t.Fatalf("subscriber got only %v", topics)
		}
	}
	if want := "rumor/events/door.open rumor/events/q2 rumor/events/q0 rumor/events/q1 plain/topic"; strings.Join(topics, " ") != want {
		t.Fatalf("subscriber got %v, want %s", topics, want)
	}
	want := MQTTStats{Received: 10, Ingested: 4, Rejected: map[string]uint64{
		RejectTopic: 2, RejectMalformed: 2, RejectNotObject: 2, RejectInvalid: 0, RejectSchema: 0, RejectStore: 0,
	}}
	if s := n.MQTTStats(); !equalStats(s, want) {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
}

func equalStats(a, b MQTTStats) bool {
	if a.Received != b.Received || a.Ingested != b.Ingested || len(a.Rejected) != len(b.Rejected) {
		return false
	}
	for k, v := range a.Rejected {
		if b.Rejected[k] != v {
			return false
		}
	}
	return true
}

// TestMQTTOff checks the broker only runs when configured.
func TestMQTTOff(t *testing.T) {
	n := startTestNode(t, "", func(c *Config) { c.Offline = true })
	if n.MQTTAddr() != "" {
		t.Fatalf("broker running at %s without MQTTAddr", n.MQTTAddr())
	}
	cfg := DefaultConfig()
	cfg.MQTTAddr = "no-port"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "MQTT address") {
		t.Fatalf("Validate with a bad MQTT address: %v", err)
	}
}

// subscribeLines returns a channel of the payloads delivered on filter.
func subscribeLines(t *testing.T, addr, filter string) <-chan string {
	t.Helper()
	received := make(chan *paho.Publish, 64)
	c := dialMQTT(t, addr, received)
	if _, err := c.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 64)
	go func() {
		for p := range received {
			out <- string(p.Payload)
		}
	}()
	return out
}

func expectLines(t *testing.T, got <-chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Fatalf("got message %q, want %q", g, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no message %q within 10s", w)
		}
	}
}

// TestMQTTAddressInUse checks that a busy MQTT address fails the start.
func TestMQTTAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n, err := New(func() Config {
		c := DefaultConfig()
		c.DataDir, c.APIAddr, c.Offline, c.MQTTAddr, c.Logger = t.TempDir(), "127.0.0.1:0", true, ln.Addr().String(), logger()
		return c
	}())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "node: mqtt: listen on") {
		t.Fatalf("Run with a busy MQTT address: %v", err)
	}
}
