package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the rumor binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rumor-e2e-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rumor")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a running rumor node.
type proc struct {
	cmd *exec.Cmd
	url string
	id  string
}

// startNode starts `rumor node` on dir with a free port and waits for it to
// print its address.
func startNode(t *testing.T, dir string, extra ...string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"node", "--data", dir, "--api", "127.0.0.1:0", "--log-level", "warn",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("node did not start: %v", err)
	}
	// "rumor node ID listening on http://ADDR"
	f := strings.Fields(line)
	if len(f) != 6 {
		cmd.Process.Kill()
		t.Fatalf("unexpected start line %q", line)
	}
	p := &proc{cmd: cmd, id: f[2], url: f[5]}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	return p
}

type ack struct {
	EventID  string `json:"event_id"`
	DeviceID string `json:"device_id"`
	Seq      uint64 `json:"seq"`
}

func (p *proc) post(body string) ([]ack, error) {
	resp, err := http.Post(p.url+"/v1/events", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var out struct{ Events []ack }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

func ndjson(n, writer int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"type":"storm","payload":{"writer":%d,"i":%d,"value":%d}}`+"\n", writer, i, i)
	}
	return b.String()
}

// TestKillDuringWriteStormLosesNothing kills the node with SIGKILL while
// eight clients post batches, restarts it and checks that every
// acknowledged event is there, seqs are contiguous and the next seq follows.
func TestKillDuringWriteStormLosesNothing(t *testing.T) {
	dir := t.TempDir()
	acked := map[string]uint64{}
	for round := 0; round < 3; round++ {
		p := startNode(t, dir)
		var mu sync.Mutex
		enough := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					acks, err := p.post(ndjson(50, w))
					if err != nil {
						return // the node was killed
					}
					mu.Lock()
					for _, a := range acks {
						acked[a.EventID] = a.Seq
					}
					if len(acked) >= 3000*(round+1) {
						once.Do(func() { close(enough) })
					}
					mu.Unlock()
				}
			}()
		}
		<-enough
		p.cmd.Process.Signal(syscall.SIGKILL)
		wg.Wait()
		p.cmd.Wait()
		checkRecovered(t, startNode(t, dir), acked)
	}
}

func checkRecovered(t *testing.T, p *proc, acked map[string]uint64) {
	t.Helper()
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	resp, err := http.Get(p.url + "/v1/events?limit=1000000&device=" + p.id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	have := map[string]uint64{}
	var last uint64
	dec := json.NewDecoder(resp.Body)
	for {
		var e ack
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if e.Seq != last+1 {
			t.Fatalf("seqs not contiguous: %d after %d", e.Seq, last)
		}
		last = e.Seq
		have[e.EventID] = e.Seq
	}
	for id, seq := range acked {
		if have[id] != seq {
			t.Fatalf("acknowledged event %s (seq %d) lost after SIGKILL", id, seq)
		}
	}
	next, err := p.post(ndjson(1, 99))
	if err != nil {
		t.Fatal(err)
	}
	if next[0].Seq != last+1 {
		t.Fatalf("next seq %d, want %d", next[0].Seq, last+1)
	}
	acked[next[0].EventID] = next[0].Seq
	t.Logf("recovered %d events (%d acknowledged), next seq %d", len(have), len(acked), next[0].Seq)
}

// TestGracefulShutdown checks SIGTERM closes the node cleanly and quickly.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, dir)
	if _, err := p.post(ndjson(10, 0)); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("node did not exit within 30s of SIGTERM")
	}
	p2 := startNode(t, dir)
	resp, err := http.Get(p2.url + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Events   uint64 `json:"events"`
		DeviceID string `json:"device_id"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	if st.Events != 10 || st.DeviceID != p.id {
		t.Fatalf("after restart: %+v (want 10 events from %s)", st, p.id)
	}
}
