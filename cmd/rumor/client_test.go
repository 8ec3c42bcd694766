package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// liveNode is a `rumor node` running in this process through run.
type liveNode struct {
	url, id, mqtt string
}

// runNode starts `rumor node` in-process on a fresh data directory,
// offline unless extra says otherwise, and stops it when the test ends.
func runNode(t *testing.T, extra ...string) *liveNode {
	t.Helper()
	args := append([]string{"node", "--data", t.TempDir(), "--api", "127.0.0.1:0", "--log-level", "error"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("node exited: %v", err))
		done <- err
	}()
	t.Cleanup(func() { cancel(); <-done })
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("node did not start: %v", err)
	}
	f := strings.Fields(line) // rumor node ID listening on http://ADDR
	if len(f) != 6 {
		t.Fatalf("unexpected start line %q", line)
	}
	n := &liveNode{id: f[2], url: f[5]}
	if slicesContain(extra, "--mqtt") {
		line, err := br.ReadString('\n') // mqtt broker listening on ADDR
		if err != nil || !strings.HasPrefix(line, "mqtt broker listening on ") {
			t.Fatalf("no MQTT line: %q %v", line, err)
		}
		n.mqtt = strings.TrimSpace(strings.TrimPrefix(line, "mqtt broker listening on "))
	}
	go io.Copy(io.Discard, br)
	return n
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// rumor runs a client command against n with stdin and returns stdout.
func (n *liveNode) rumor(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	args = append(args, "--node", n.url)
	err := run(context.Background(), args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

// must is rumor that fails the test on an error.
func (n *liveNode) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := n.rumor(t, stdin, args...)
	if err != nil {
		t.Fatalf("rumor %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs a command that must fail with exactly wantErr.
func (n *liveNode) fails(t *testing.T, wantErr string, args ...string) {
	t.Helper()
	if _, err := n.rumor(t, "", args...); err == nil || err.Error() != wantErr {
		t.Fatalf("rumor %s: error %v, want %q", strings.Join(args, " "), err, wantErr)
	}
}

// lines splits output into lines, dropping the final newline.
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func ndjsonLines(from, to int, typ string) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, `{"type":%q,"payload":{"i":%d}}`+"\n", typ, i)
	}
	return b.String()
}

func TestEmitAndEvents(t *testing.T) {
	n := runNode(t, "--offline")

	out := n.must(t, "", "emit", "door.open", `{"door":"north","value":1}`)
	if l := lines(out); len(l) != 2 || !strings.HasPrefix(l[0], "EVENT ID") || !strings.Contains(l[1], n.id) || !strings.HasSuffix(l[1], " 1") {
		t.Fatalf("emit printed %q", out)
	}
	var ack struct {
		Events []ackJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(n.must(t, "", "emit", "door.open", "--json", "--ts", "2026-01-02T03:04:05Z")), &ack); err != nil || ack.Events[0].Seq != 2 {
		t.Fatalf("emit --json: %+v %v", ack, err)
	}
	// API errors come through verbatim; a payload that is not JSON never leaves.
	n.fails(t, `event: invalid: field "payload" must be a JSON object`, "emit", "door.open", `[1]`)
	n.fails(t, `payload "{" is not valid JSON`, "emit", "door.open", `{`)
	n.fails(t, "parameter after: needs device (seqs count per device)", "events", "--after", "3")

	out = n.must(t, "", "events", "--type", "door.open")
	l := lines(out)
	if len(l) != 3 || !strings.HasPrefix(l[0], "TIME (UTC)") || !strings.Contains(l[1], `{"door":"north","value":1}`) ||
		!strings.HasPrefix(l[2], "2026-01-02 03:04:05.000  door.open") {
		t.Fatalf("events table:\n%s", out)
	}
	// Columns line up: SEQ is right-aligned under its header.
	if col := strings.Index(l[0], "SEQ") + 2; l[1][col] != '1' || l[2][col] != '2' {
		t.Fatalf("SEQ column misaligned:\n%s", out)
	}
	out = n.must(t, "", "events", "--json", "--device", n.id, "--after", "1")
	var e struct {
		Seq     uint64 `json:"seq"`
		Payload any    `json:"payload"`
	}
	if l := lines(out); len(l) != 1 || json.Unmarshal([]byte(l[0]), &e) != nil || e.Seq != 2 {
		t.Fatalf("events --json:\n%s", out)
	}
	if out := n.must(t, "", "events", "--type", "nothing"); out != "no events\n" {
		t.Fatalf("empty listing %q", out)
	}
}

func TestEmitBulk(t *testing.T) {
	n := runNode(t, "--offline")
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(ndjsonLines(0, 1200, "a")+"\n"+ndjsonLines(1200, 2500, "a")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := n.must(t, "", "emit", "--file", path)
	if !strings.HasPrefix(out, "emitted 2,500 events in 3 requests (") {
		t.Fatalf("emit --file printed %q", out)
	}
	if out := n.must(t, ndjsonLines(0, 10, "b"), "emit", "--file", "-", "--json"); out != `{"events":10,"requests":1}`+"\n" {
		t.Fatalf("emit --file - --json printed %q", out)
	}
	// A bad line stops the run; the batches before it are stored.
	bad := ndjsonLines(0, 1500, "c") + `{"type":"c","payload":[1]}` + "\n" + ndjsonLines(0, 10, "c")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	want := path + ` line 1501: event: invalid: field "payload" must be a JSON object (the 1,000 events before it were stored)`
	n.fails(t, want, "emit", "--file", path)

	var st statusJSON
	if err := json.Unmarshal([]byte(n.must(t, "", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Events != 2500+10+1000 {
		t.Fatalf("node holds %d events, want 3510", st.Events)
	}
}

func TestStatusPeersHealth(t *testing.T) {
	n := runNode(t, "--offline")
	n.must(t, ndjsonLines(0, 1234, "x"), "emit", "--file", "-")

	out := n.must(t, "", "status")
	for _, want := range []string{"device   " + n.id, "role     device", "events   1,234", "addrs    - (offline)",
		"peers    0 known, 0 connected", "ORIGIN", n.id + "              1,234"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if out := n.must(t, "", "peers"); out != "no peers\n" {
		t.Errorf("peers on a lone node: %q", out)
	}
	out = n.must(t, "", "health")
	l := lines(out)
	if len(l) != 4 || strings.Join(strings.Fields(l[0]), " ") != "DEVICE EVENTS KNOWN MAX COMPLETENESS LAG ARCHIVED LAST SEEN" ||
		strings.Join(strings.Fields(l[1]), " ") != n.id+" 1,234 1,234 100.0% 0s - just now" || l[3] != "1 device, 100.0% complete" {
		t.Fatalf("health:\n%s", out)
	}
	var h struct {
		Completeness float64 `json:"completeness"`
	}
	if err := json.Unmarshal([]byte(n.must(t, "", "health", "--json")), &h); err != nil || h.Completeness != 1 {
		t.Fatalf("health --json: %+v %v", h, err)
	}
}

func TestBlobPutGet(t *testing.T) {
	n := runNode(t, "--offline")
	dir := t.TempDir()
	data := bytes.Repeat([]byte("rumor blob "), 300_000) // 3.3 MB: chunked
	src := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var put struct {
		CID  string `json:"cid"`
		Size int    `json:"size"`
	}
	if err := json.Unmarshal([]byte(n.must(t, "", "blob", "put", src, "--json")), &put); err != nil || put.Size != len(data) {
		t.Fatalf("blob put --json: %+v %v", put, err)
	}
	if out := n.must(t, "", "blob", "put", src); !strings.Contains(out, put.CID+"  3.1 MiB") {
		t.Fatalf("blob put printed %q", out)
	}
	dst := filepath.Join(dir, "out.bin")
	if out := n.must(t, "", "blob", "get", put.CID, "-o", dst); out != fmt.Sprintf("wrote %s (3.1 MiB) to %s\n", put.CID, dst) {
		t.Fatalf("blob get printed %q", out)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob get -o: %d bytes, %v", len(got), err)
	}
	if out := n.must(t, "", "blob", "get", put.CID); out != string(data) {
		t.Fatalf("blob get to stdout: %d bytes", len(out))
	}
	small := n.must(t, "tiny", "blob", "put", "-", "--json")
	if !strings.Contains(small, `"size":4`) {
		t.Fatalf("blob put - : %q", small)
	}
	n.fails(t, "blob bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy not found",
		"blob", "get", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
	if _, err := n.rumor(t, "", "blob", "get", "not-a-cid"); err == nil {
		t.Fatal("blob get of a malformed CID succeeded")
	}
}

func TestClientNodeAddress(t *testing.T) {
	n := runNode(t, "--offline")
	t.Setenv("RUMOR_NODE", strings.TrimPrefix(n.url, "http://")) // host:port is enough
	var out bytes.Buffer
	if err := run(context.Background(), []string{"status", "--json"}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), n.id) {
		t.Fatalf("status via RUMOR_NODE: %v %q", err, out.String())
	}
	err := run(context.Background(), []string{"status", "--node", "http://127.0.0.1:1"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the node at http://127.0.0.1:1: ") {
		t.Fatalf("unreachable node: %v", err)
	}
	err = run(context.Background(), []string{"status", "--node", "ftp://x"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Fatalf("bad --node: %v", err)
	}
}

// TestPeersAndTrace runs two networked nodes and checks peers, health and
// the sync trace as the second node sees them.
func TestPeersAndTrace(t *testing.T) {
	mesh := []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--sync-interval", "100ms"}
	a := runNode(t, mesh...)
	var st statusJSON
	if err := json.Unmarshal([]byte(a.must(t, "", "status", "--json")), &st); err != nil || len(st.Addrs) == 0 {
		t.Fatalf("status: %+v %v", st, err)
	}
	b := runNode(t, append(mesh, "--peer", st.Addrs[0])...)
	var ack struct {
		Events []ackJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(a.must(t, "", "emit", "door.open", `{"v":1}`, "--json")), &ack); err != nil {
		t.Fatal(err)
	}
	id := ack.Events[0].EventID
	waitUntil(t, 20*time.Second, "the event to reach the second node", func() bool {
		return strings.Contains(b.must(t, "", "events", "--json"), id)
	})

	out := b.must(t, "", "peers")
	if l := lines(out); len(l) != 2 || !strings.HasPrefix(l[0], "DEVICE") || !strings.HasPrefix(l[1], a.id+"  device  yes") {
		t.Fatalf("peers:\n%s", out)
	}
	out = b.must(t, "", "health")
	if !strings.Contains(out, a.id) || !strings.HasSuffix(out, "\n1 device, 100.0% complete\n") {
		t.Fatalf("health:\n%s", out)
	}
	out = b.must(t, "", "trace", "--event-id", id)
	if !strings.HasPrefix(out, fmt.Sprintf("event %s (device %s, seq 1): received ", id, a.id)) || !strings.Contains(out, a.id) {
		t.Fatalf("trace --event-id:\n%s", out)
	}
	out = b.must(t, "", "trace", "--limit", "5", "--peer", a.id)
	if l := lines(out); len(l) < 2 || !strings.HasPrefix(l[0], "ID") || !strings.Contains(out, a.id) {
		t.Fatalf("trace:\n%s", out)
	}
	var list struct {
		Sessions []struct {
			Peer string `json:"peer"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(b.must(t, "", "trace", "--json", "--limit", "2")), &list); err != nil || len(list.Sessions) == 0 {
		t.Fatalf("trace --json: %+v %v", list, err)
	}
	b.fails(t, "--event-id cannot be combined with --limit or --peer", "trace", "--event-id", id, "--limit", "3")
	if _, err := b.rumor(t, "", "trace", "--peer", "nobody"); err == nil || !strings.Contains(err.Error(), `parameter peer: "nobody" is not a peer id`) {
		t.Fatalf("trace --peer nobody: %v", err)
	}
}

// TestNodeMQTT feeds `rumor node --mqtt` with mosquitto_pub and reads the
// event back with `rumor events`.
func TestNodeMQTT(t *testing.T) {
	bin, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mosquitto_pub is not installed (apt-get install mosquitto-clients)")
		}
		t.Skip("mosquitto_pub is not installed (apt-get install mosquitto-clients)")
	}
	n := runNode(t, "--offline", "--mqtt", "127.0.0.1:0")
	host, port, _ := net.SplitHostPort(n.mqtt)
	pub := exec.Command(bin, "-h", host, "-p", port, "-q", "1", "-t", "rumor/events/temp", "-m", `{"value": 21.5}`)
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v\n%s", err, out)
	}
	// QoS 1 is acknowledged after the event is durable: no waiting.
	out := n.must(t, "", "events", "--type", "temp", "--json")
	if !strings.Contains(out, `"type":"temp"`) || !strings.Contains(out, `"payload":{"value":21.5}`) {
		t.Fatalf("events after mosquitto_pub: %q", out)
	}
}
