package node

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// mosquittoBin returns the path of mosquitto_pub (Debian's
// mosquitto-clients). It skips the test when it is missing, unless $CI is
// set.
func mosquittoBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mosquitto_pub is not installed (apt-get install mosquitto-clients)")
		}
		t.Skip("mosquitto_pub is not installed (apt-get install mosquitto-clients)")
	}
	return bin
}

// mosquittoPub runs mosquitto_pub against addr with stdin and args and
// returns its output.
func mosquittoPub(t *testing.T, addr, stdin string, args ...string) string {
	t.Helper()
	bin := mosquittoBin(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"-h", host, "-p", port, "-i", "mosq-" + t.Name()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestMQTTMosquittoPub feeds a node with mosquitto_pub, MQTT 3.1.1 (its
// default) and 5. A subscriber on rumor/events/# sees a message only
// once it is stored, so it tells when QoS 0 messages have landed and that
// rejected ones were not passed on.
func TestMQTTMosquittoPub(t *testing.T) {
	n := startMQTTNode(t)
	addr := n.MQTTAddr()
	got := subscribeLines(t, addr, "rumor/events/#")

	// QoS 1: mosquitto_pub exits after the PUBACK, so the event is stored.
	mosquittoPub(t, addr, "", "-q", "1", "-t", "rumor/events/door.open", "-m", `{"door": "north", "value": 1}`)
	if ev := getEvents(t, n.Node, "door.open"); len(ev) != 1 || string(ev[0].Payload) != `{"door":"north","value":1}` {
		t.Fatalf("after QoS 1: %+v", ev)
	}
	// QoS 0: no ack to wait for; the subscriber tells us.
	mosquittoPub(t, addr, "", "-q", "0", "-t", "rumor/events/tick", "-m", `{"i":0}`)
	expectLines(t, got, `{"door": "north", "value": 1}`, `{"i":0}`)

	// One connection, bad lines among good ones. MQTT 3.1.1 has no
	// negative ack: the bad ones are acknowledged but neither stored nor
	// passed on, and the connection carries on.
	mosquittoPub(t, addr, "not json\n{\"i\":1}\n[1]\n{\"i\":2}\n", "-q", "1", "-t", "rumor/events/tick", "-l")
	mosquittoPub(t, addr, "", "-q", "1", "-t", "rumor/events/", "-m", `{"i":"no type"}`)
	// MQTT 5: refused with a reason code and our message.
	out := mosquittoPub(t, addr, "{\"i\":\n{\"i\":3}\n", "-V", "mqttv5", "-q", "1", "-t", "rumor/events/tick", "-l")
	if !strings.Contains(out, "Payload format invalid") || !strings.Contains(out, "message is not JSON") {
		t.Fatalf("mosquitto_pub -V mqttv5 said %q, want the refusal", out)
	}
	expectLines(t, got, `{"i":1}`, `{"i":2}`, `{"i":3}`)

	var payloads []string
	for _, e := range getEvents(t, n.Node, "tick") {
		payloads = append(payloads, string(e.Payload))
	}
	if strings.Join(payloads, " ") != `{"i":0} {"i":1} {"i":2} {"i":3}` {
		t.Fatalf("tick events %v", payloads)
	}
	want := MQTTStats{Received: 9, Ingested: 5, Rejected: map[string]uint64{
		RejectTopic: 1, RejectMalformed: 2, RejectNotObject: 1, RejectInvalid: 0, RejectSchema: 0, RejectStore: 0,
	}}
	if s := n.MQTTStats(); !equalStats(s, want) {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
}

// TestMQTT3StoreFailure checks that an MQTT 3.1.1 client whose message
// could not be stored gets no PUBACK (3.1.1 has no negative one): the
// broker drops the connection, so mosquitto_pub fails instead of
// believing the message was stored.
func TestMQTT3StoreFailure(t *testing.T) {
	g := &gate{called: make(chan event.Input, 1), release: make(chan error, 1)}
	g.release <- store.ErrClosed
	b, err := startBroker(context.Background(), "127.0.0.1:0", 1<<20, g, nil, logger())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	bin := mosquittoBin(t)
	host, port, _ := net.SplitHostPort(b.addr)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-q", "1", "-t", "rumor/events/x", "-m", "{}").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "connection was lost") {
		t.Fatalf("mosquitto_pub after a failed store: %v %s", err, out)
	}
	if s := b.hook.stats(); s.Received != 1 || s.Ingested != 0 || s.Rejected[RejectStore] != 1 {
		t.Fatalf("stats %+v", s)
	}
}
