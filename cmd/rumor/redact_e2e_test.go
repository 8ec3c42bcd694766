package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func (p *proc) redact(id string) (int, error) {
	req, _ := http.NewRequest(http.MethodDelete, p.url+"/v1/events/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestKillAroundRedactionsLosesNothing kills the node with SIGKILL while
// clients post events and redact them, restarts it, and checks that every
// acknowledged event is there, every acknowledged redaction in effect, and
// that the payloads of the redacted events leave the log.
func TestKillAroundRedactionsLosesNothing(t *testing.T) {
	dir := t.TempDir()
	acked := map[string]uint64{}    // event id → seq
	redacted := map[string]bool{}   // acknowledged redactions
	secretOf := map[string]string{} // event id → its payload's secret, quoted
	for round := range 2 {
		p := startNode(t, dir)
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					secret := fmt.Sprintf(`"s3cr3t-%d-%d-%d"`, round, w, i)
					acks, err := p.post(fmt.Sprintf(`{"type":"r","payload":{"secret":%s,"value":%d}}`+"\n", secret, i))
					if err != nil {
						return
					}
					mu.Lock()
					acked[acks[0].EventID] = acks[0].Seq
					secretOf[acks[0].EventID] = secret
					mu.Unlock()
					if i%2 == 1 {
						continue
					}
					code, err := p.redact(acks[0].EventID)
					if err != nil {
						return
					}
					if code != http.StatusAccepted {
						t.Errorf("DELETE answered %d", code)
						return
					}
					mu.Lock()
					redacted[acks[0].EventID] = true
					mu.Unlock()
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond) // a storm of posts and redactions
		p.cmd.Process.Signal(syscall.SIGKILL)
		close(stop)
		wg.Wait()
		p.cmd.Wait()
	}
	p := startNode(t, dir)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	resp, err := http.Get(p.url + "/v1/events?type=r&limit=1000000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	have := map[string]bool{}
	dec := json.NewDecoder(resp.Body)
	for {
		var e struct {
			EventID  string          `json:"event_id"`
			Seq      uint64          `json:"seq"`
			Redacted bool            `json:"redacted"`
			Payload  json.RawMessage `json:"payload"`
		}
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if seq, ok := acked[e.EventID]; ok && seq != e.Seq {
			t.Fatalf("event %s at seq %d, acknowledged at %d", e.EventID, e.Seq, seq)
		}
		if redacted[e.EventID] && (!e.Redacted || string(e.Payload) != "{}") {
			t.Fatalf("acknowledged redaction of %s lost after SIGKILL: %s", e.EventID, e.Payload)
		}
		have[e.EventID] = e.Redacted
	}
	for id := range acked {
		if _, ok := have[id]; !ok {
			t.Fatalf("acknowledged event %s lost after SIGKILL", id)
		}
	}
	if len(redacted) < 10 {
		t.Fatalf("only %d redactions acknowledged: the storm did not happen", len(redacted))
	}
	// The erasures queued before the kills are done after the restart.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var logs []byte
		files, _ := filepath.Glob(filepath.Join(dir, "log", "*.seg"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, data...)
		}
		leaked := 0
		for id := range redacted {
			if bytes.Contains(logs, []byte(secretOf[id])) {
				leaked++
			}
		}
		if leaked == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d redacted payloads still in the log", leaked)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d events acknowledged, %d redactions acknowledged, all in effect after 2 SIGKILLs", len(acked), len(redacted))
}
