package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
)

const httpBatch = 1000

var benchRates = map[string]float64{}

func benchNode(b *testing.B) (*Node, string, func()) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr = b.TempDir(), "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan struct{})
	go func() { n.Run(ctx, func(a net.Addr) { addrc <- a }); close(done) }()
	addr := <-addrc
	return n, "http://" + addr.String(), func() { cancel(); <-done }
}

func ndjsonBody() []byte {
	var buf bytes.Buffer
	pad := strings.Repeat("x", 256-40)
	for i := 0; i < httpBatch; i++ {
		fmt.Fprintf(&buf, `{"type":"sensor.reading","payload":{"value":%d,"pad":"%s"}}`+"\n", i%1000, pad)
	}
	return buf.Bytes()
}

// BenchmarkHTTPIngest compares NDJSON ingest over HTTP (1,000 events per
// request) with the same requests through Store.Ingest in process, with 4
// concurrent clients. One op is one request.
func BenchmarkHTTPIngest(b *testing.B) {
	body := ndjsonBody()
	const clients = 4
	b.Run("in-process", func(b *testing.B) {
		n, _, stop := benchNode(b)
		defer stop()
		var inputs []event.Input
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			in, err := event.ParseInput(line)
			if err != nil {
				b.Fatal(err)
			}
			inputs = append(inputs, in)
		}
		rate := parallel(b, clients, func() error {
			_, err := n.Store().Ingest(context.Background(), inputs)
			return err
		})
		benchRates["in-process"] = rate
	})
	b.Run("http", func(b *testing.B) {
		_, url, stop := benchNode(b)
		defer stop()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		rate := parallel(b, clients, func() error {
			resp, err := client.Post(url+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
		if base := benchRates["in-process"]; base > 0 {
			b.ReportMetric(rate/base, "x-in-process")
		}
	})
}

func parallel(b *testing.B, clients int, fn func() error) float64 {
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		n := b.N / clients
		if c < b.N%clients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(b.N*httpBatch) / time.Since(start).Seconds()
	b.ReportMetric(rate, "events/s")
	return rate
}

// BenchmarkRestart fills a data directory with RUMOR_BENCH_EVENTS events
// (default 1,000,000), then starts a fresh process on it and reports how
// long opening took and the process's resident memory once open.
func BenchmarkRestart(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("RUMOR_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	dir := b.TempDir()
	fill(b, dir, total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRestartHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "RUMOR_RESTART_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("helper: %v\n%s", err, out)
		}
		var res struct {
			OpenMS float64 `json:"open_ms"`
			RSSMB  float64 `json:"rss_mb"`
			Events uint64  `json:"events"`
		}
		line := out[bytes.Index(out, []byte("RESULT "))+7:]
		line = line[:bytes.IndexByte(line, '\n')]
		if err := json.Unmarshal(line, &res); err != nil {
			b.Fatalf("helper output %q: %v", out, err)
		}
		if res.Events != uint64(total) {
			b.Fatalf("reopened store holds %d events, want %d", res.Events, total)
		}
		b.ReportMetric(res.OpenMS, "open-ms")
		b.ReportMetric(res.RSSMB, "rss-MB")
	}
	b.ReportMetric(float64(total), "events")
}

func fill(b *testing.B, dir string, total int) {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	in := make([]event.Input, 4096)
	payload := json.RawMessage(`{"value":1,"pad":"` + strings.Repeat("x", 256-22) + `"}`)
	for i := range in {
		in[i] = event.Input{Type: "sensor.reading", Schema: 1, Payload: payload}
	}
	var wg sync.WaitGroup
	per := total / 4
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < per; {
				k := min(len(in), per-done)
				if _, err := n.Store().Ingest(context.Background(), in[:k]); err != nil {
					b.Error(err)
					return
				}
				done += k
			}
		}()
	}
	wg.Wait()
	if err := n.Close(); err != nil {
		b.Fatal(err)
	}
}

// TestRestartHelper is BenchmarkRestart's child process: it opens the node
// on RUMOR_RESTART_DIR and prints the open time and resident memory.
func TestRestartHelper(t *testing.T) {
	dir := os.Getenv("RUMOR_RESTART_DIR")
	if dir == "" {
		t.Skip("only run as BenchmarkRestart's child")
	}
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.DiscardHandler)
	start := time.Now()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	openMS := float64(time.Since(start).Microseconds()) / 1000
	events := n.Store().Summary().Events
	rss := residentMB()
	n.Close()
	fmt.Printf("RESULT {\"open_ms\":%.1f,\"rss_mb\":%.1f,\"events\":%d}\n", openMS, rss, events)
}

func residentMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}
