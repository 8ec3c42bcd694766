package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process' stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoggedNode starts `rumor node` with args, its logs in the returned
// buffer, and waits for it to listen.
func startLoggedNode(t *testing.T, args ...string) (*proc, *lockedBuffer) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, append([]string{"node", "--api", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"}, args...)...)
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 6 {
		cmd.Process.Kill()
		t.Fatalf("node did not start: %q %v\n%s", line, err, logs)
	}
	p := &proc{cmd: cmd, id: f[2], url: f[5]}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	return p, logs
}

// liveConfig is the part of GET /v1/config the test reads.
type liveConfig struct {
	Values     map[string]any    `json:"values"`
	Sources    map[string]string `json:"sources"`
	LastReload *struct {
		Seq     int      `json:"seq"`
		OK      bool     `json:"ok"`
		Error   string   `json:"error"`
		Trigger string   `json:"trigger"`
		Changed []string `json:"changed"`
		Ignored []struct {
			Key, Reason string
		} `json:"ignored"`
	} `json:"last_reload"`
}

func getConfig(t *testing.T, p *proc) liveConfig {
	t.Helper()
	resp, err := http.Get(p.url + "/v1/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c liveConfig
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// hangup sends SIGHUP and waits for the node to report reload seq.
func hangup(t *testing.T, p *proc, seq int) liveConfig {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := getConfig(t, p)
		if c.LastReload != nil && c.LastReload.Seq == seq {
			if c.LastReload.Trigger != "signal" {
				t.Fatalf("reload %d triggered by %q", seq, c.LastReload.Trigger)
			}
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload %d after SIGHUP: %+v", seq, c.LastReload)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIGHUPReloadsTheSwitches runs `rumor node --config`, changes the
// file and sends SIGHUP: the switches follow the file (flags still win,
// API changes are dropped, other keys are reported); a bad file is
// logged and changes nothing, and the node keeps running.
func TestSIGHUPReloadsTheSwitches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rumor.yaml")
	writeFile(t, path, "sync-fanout: 2\nblob-policy: on-demand\nlog-level: info\n")
	p, logs := startLoggedNode(t, "--data", filepath.Join(dir, "data"), "--config", path, "--push=false")

	c := getConfig(t, p)
	if c.Values["sync_fanout"] != 2.0 || c.Sources["sync_fanout"] != "file" || c.Values["push"] != false ||
		c.Sources["push"] != "flag" || c.Values["blob_policy"] != "on-demand" || c.Sources["sync_interval"] != "default" {
		t.Fatalf("at start: %+v", c)
	}
	req, _ := http.NewRequest("PUT", p.url+"/v1/config", strings.NewReader(`{"sync_interval": "5s"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()

	writeFile(t, path, "sync-fanout: 3\npush: true\nmesh: elsewhere\nlog-level: info\n")
	c = hangup(t, p, 1)
	if !c.LastReload.OK || c.Values["sync_fanout"] != 3.0 || c.Values["blob_policy"] != "eager" || c.Sources["blob_policy"] != "default" ||
		c.Values["sync_interval"] != "1s" || c.Sources["sync_interval"] != "default" || c.Values["push"] != false {
		t.Fatalf("after SIGHUP: %+v %+v", c.Values, c.LastReload)
	}
	reasons := map[string]string{}
	for _, ig := range c.LastReload.Ignored {
		reasons[ig.Key] = ig.Reason
	}
	if !strings.Contains(reasons["mesh"], "restart") || reasons["push"] != "overridden by --push" || len(reasons) != 2 {
		t.Fatalf("ignored keys: %v", reasons)
	}

	for seq, bad := range []string{"sync-fanout: 0\n", "sync-fanout: [2\n", "sync-fanut: 2\n"} {
		writeFile(t, path, bad)
		c = hangup(t, p, seq+2)
		if c.LastReload.OK || !strings.Contains(c.LastReload.Error, "sync-fan") || c.Values["sync_fanout"] != 3.0 || c.Sources["sync_fanout"] != "file" {
			t.Fatalf("after SIGHUP with %q: %+v %+v", bad, c.Values, c.LastReload)
		}
	}
	for _, want := range []string{"config reload failed; keeping the running settings", "sync-fanout: 0 is outside [1, 16]",
		`config file key not applied`, "config reloaded"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
}
