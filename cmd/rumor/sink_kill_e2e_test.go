package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/internal/duckdb"
)

// getJSONOK GETs url into v; it reports false when the node does not
// answer 200 (it may be down).
func getJSONOK(url string, v any) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

// nodeStatus is the part of GET /v1/status the kill test reads.
type nodeStatus struct {
	Addrs         []string          `json:"addrs"`
	VersionVector map[string]uint64 `json:"version_vector"`
	Retention     api.Retention     `json:"retention"`
}

func statusOf(t *testing.T, p *proc) nodeStatus {
	t.Helper()
	var st nodeStatus
	if !getJSONOK(p.url+"/v1/status", &st) {
		t.Fatalf("GET %s/v1/status failed", p.url)
	}
	return st
}

// sinkWatermarks is the sink's archived watermark, from GET /v1/archive;
// nil while the sink does not answer or has not listed its archive yet.
func sinkWatermarks(p *proc) map[string]uint64 {
	var l api.ArchiveList
	if !getJSONOK(p.url+"/v1/archive?limit=1", &l) || !l.Listed {
		return nil
	}
	return l.Watermarks
}

// ingester posts batches of events to a node until stopped and keeps the
// highest seq acknowledged.
type ingester struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	acked uint64
	err   error
}

func ingest(p *proc, writer int) *ingester {
	in := &ingester{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(in.done)
		for {
			select {
			case <-in.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			acks, err := p.post(ndjson(40, writer))
			in.mu.Lock()
			if err != nil {
				in.err = err
				in.mu.Unlock()
				return
			}
			for _, a := range acks {
				in.acked = max(in.acked, a.Seq)
			}
			in.mu.Unlock()
		}
	}()
	return in
}

func (in *ingester) finish(t *testing.T) uint64 {
	t.Helper()
	close(in.stop)
	<-in.done
	if in.err != nil {
		t.Fatalf("ingest: %v", in.err)
	}
	return in.acked
}

func (in *ingester) seq() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.acked
}

// TestSinkKilledWhileDevicesIngest runs a real sink process archiving into
// a directory and two device processes that keep ingesting and prune
// everything archived (--retain 1ms). The sink is killed with SIGKILL
// three times, each once it archived more (while it writes a file, if it
// can be caught at it), and restarted: its watermark
// never goes back, the devices prune further after each restart, and in
// the end DuckDB finds every event of both devices in the archive exactly
// once (one row per (device_id, seq), seqs 1 to the last acknowledged)
// and no device pruned beyond it.
func TestSinkKilledWhileDevicesIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("sink kill test in -short mode")
	}
	duckdb.Dir(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "archive")
	devArgs := []string{"--log-level", "warn", "--retain", "1ms", "--retention-interval", "100ms", "--sync-interval", "200ms"}
	d1, _ := startLoggedNode(t, append([]string{"--data", filepath.Join(dir, "d1")}, devArgs...)...)
	d2, _ := startLoggedNode(t, append([]string{"--data", filepath.Join(dir, "d2"), "--peer", statusOf(t, d1).Addrs[0]}, devArgs...)...)
	sinkArgs := []string{"--data", filepath.Join(dir, "sink"), "--role", "sink", "--archive", "file://" + root,
		"--archive-rows", "300", "--archive-age", "100ms", "--watermark-interval", "100ms", "--sync-interval", "200ms",
		"--log-level", "info", "--peer", statusOf(t, d1).Addrs[0], "--peer", statusOf(t, d2).Addrs[0]}
	s, logs := startLoggedNode(t, sinkArgs...)
	devices := []*proc{d1, d2}
	ins := []*ingester{ingest(d1, 1), ingest(d2, 2)}

	start := time.Now()
	temps := 0                  // temporary files the kills left
	seen := map[string]uint64{} // the highest watermark the sink reported
	floors := map[string]uint64{}
	for round := 0; round < 3; round++ {
		// Wait for the sink to archive more of each device, and for the
		// devices to prune further behind it, then kill it.
		target := map[string]uint64{}
		for i, d := range devices {
			target[d.id] = ins[i].seq()
		}
		waitUntil(t, 30*time.Second, fmt.Sprintf("round %d: the sink to archive up to %v", round, target), func() bool {
			wm := sinkWatermarks(s)
			for o, w := range wm {
				if w < seen[o] {
					t.Fatalf("round %d: the sink's watermark of %s went back from %d to %d", round, o, seen[o], w)
				}
				seen[o] = w
			}
			for o, w := range target {
				if seen[o] < w {
					return false
				}
			}
			return true
		})
		for _, d := range devices {
			waitUntil(t, 20*time.Second, fmt.Sprintf("round %d: %s to prune further", round, d.id), func() bool {
				f := statusOf(t, d).Retention.Pruned[d.id]
				if wm := sinkWatermarks(s); wm != nil { // read after the floor: it only rises
					seen[d.id] = max(seen[d.id], wm[d.id])
				}
				if f > seen[d.id] {
					t.Fatalf("%s pruned up to %d; the sink reported %d archived", d.id, f, seen[d.id])
				}
				if f > floors[d.id] {
					floors[d.id] = f
					return true
				}
				return false
			})
		}
		uploading(root, 2*time.Second) // aim the kill at an upload
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = s.cmd.Wait()
		temps += checkWholeFiles(t, root)
		t.Logf("%v round %d: sink killed at watermarks %v; device floors %v", time.Since(start), round, seen, floors)
		time.Sleep(200 * time.Millisecond) // the devices ingest without it
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("sink logs:\n%s", logs)
		}
		s, logs = startLoggedNode(t, sinkArgs...)
	}

	want := map[string]uint64{}
	for i, d := range devices {
		want[d.id] = ins[i].finish(t)
	}
	waitUntil(t, 30*time.Second, fmt.Sprintf("the sink to archive everything (%v)", want), func() bool {
		wm := sinkWatermarks(s)
		return wm != nil && wm[d1.id] == want[d1.id] && wm[d2.id] == want[d2.id]
	})
	for _, d := range devices { // each ingest request is sealed: a device prunes its own events exactly
		waitUntil(t, 20*time.Second, d.id+" to prune what the restarted sink archived", func() bool {
			return statusOf(t, d).Retention.Pruned[d.id] == want[d.id]
		})
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("sink exit: %v\n%s", err, logs)
	}

	arch := duckdb.Archived(t, root)
	type idCount struct {
		Rows uint64 `json:"rows,string"`
		IDs  uint64 `json:"ids,string"`
	}
	ids := duckdb.Query[idCount](t, "SELECT count(*) AS rows, count(DISTINCT event_id) AS ids FROM "+duckdb.Events(root))
	if len(ids) != 1 || ids[0].Rows != ids[0].IDs || ids[0].Rows != want[d1.id]+want[d2.id] {
		t.Fatalf("archive rows and distinct event ids: %+v, want %d", ids, want[d1.id]+want[d2.id])
	}
	for _, d := range devices {
		a := arch[d.id]
		if !a.Contiguous() || a.Max != want[d.id] {
			t.Fatalf("archive of %s: %+v, want seqs 1..%d once each", d.id, a, want[d.id])
		}
		for o, f := range statusOf(t, d).Retention.Pruned {
			if f > arch[o].Max {
				t.Fatalf("%s pruned %s up to %d, the archive holds up to %d", d.id, o, f, arch[o].Max)
			}
		}
		t.Logf("%s: %d events in %d files; floor %d", d.id, a.Rows, a.Files, statusOf(t, d).Retention.Pruned[d.id])
	}
	if n := checkWholeFiles(t, root); n != 0 {
		t.Fatalf("%d temporary files left in the archive after a clean restart", n)
	}
	t.Logf("%d temporary files seen after the kills (uploads cut short)", temps)
}

// uploading returns once a temporary file is in the archive at root (a
// file being uploaded), or after d.
func uploading(root string, d time.Duration) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		found := false
		_ = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".tmp") {
				found = true
				return filepath.SkipAll
			}
			return nil
		})
		if found {
			return
		}
	}
}

// checkWholeFiles checks that every Parquet file in the archive at root
// is whole (the magic at both ends, and a footer that fits) and returns
// how many temporary files it holds.
func checkWholeFiles(t *testing.T, root string) int {
	t.Helper()
	temps := 0
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		switch {
		case err != nil || e.IsDir():
			return err
		case strings.HasSuffix(path, ".tmp"):
			temps++
		case strings.HasSuffix(path, ".parquet"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n := len(data)
			if n < 12 || string(data[:4]) != "PAR1" || string(data[n-4:]) != "PAR1" ||
				int(binary.LittleEndian.Uint32(data[n-8:])) > n-12 {
				t.Errorf("%s (%d bytes) is not a whole Parquet file", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return temps
}
