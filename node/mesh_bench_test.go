package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/procs"
)

func benchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("RUMOR_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

var catchUpBaseline float64

// BenchmarkCatchUp measures a fresh node pulling every event of one
// neighbour over loopback until durable, next to plain TCP copying the
// same bytes into a file with an fdatasync per MiB (the sync protocol's
// batch size). RUMOR_BENCH_EVENTS sets the count (default 1,000,000).
// cpu-s is the CPU time (user and system) the process spent on the
// catch-up, both nodes together; disk-MB is the bytes the process caused
// to be written to storage, in both sub-benchmarks. rumor-default-procs
// runs the same catch-up with the Go runtime's default GOMAXPROCS instead of the one
// `rumor node` sets (internal/procs) and reports it against rumor.
func BenchmarkCatchUp(b *testing.B) {
	total := benchEvents()
	b.Run("tcp-copy", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rate := tcpCopy(b, total)
			catchUpBaseline = rate
			b.ReportMetric(rate, "events/s")
		}
	})
	var tuned float64
	b.Run("rumor", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tuned = catchUp(b, total)
			if catchUpBaseline > 0 {
				b.ReportMetric(tuned/catchUpBaseline, "x-tcp-copy")
			}
		}
	})
	b.Run("rumor-default-procs", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs.Default()))
		for i := 0; i < b.N; i++ {
			rate := catchUp(b, total)
			if tuned > 0 {
				b.ReportMetric(rate/tuned, "x-rumor")
			}
		}
	})
}

// catchUp runs one timed catch-up of total events and returns its rate.
func catchUp(b *testing.B, total int) float64 {
	b.StopTimer()
	src := startBenchNode(b, "")
	fillNode(b, src.Node, total)
	b.StartTimer()
	stopProfile := benchProfile(b)
	cpu0, disk0 := processCPU(), diskWritten()
	start := time.Now()
	dst := startBenchNode(b, "", src.Mesh().Addrs()[0])
	var first time.Duration
	for dst.Store().Len() < uint64(total) { // Summary would also hash the context, each poll
		if first == 0 && dst.Store().Len() > 0 {
			first = time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(first.Seconds(), "first-s")
	el := time.Since(start)
	b.ReportMetric((processCPU() - cpu0).Seconds(), "cpu-s")
	b.ReportMetric(float64(diskWritten()-disk0)/1e6, "disk-MB")
	stopProfile()
	b.StopTimer()
	rate := float64(total) / el.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(el.Seconds(), "seconds")
	dst.stop()
	src.stop()
	return rate
}

// diskWritten is the number of bytes the process has caused to be
// written to storage (/proc/self/io write_bytes; 0 where unavailable).
func diskWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchProfile starts a CPU profile and an execution trace of the timed
// part alone when RUMOR_BENCH_PROFILE names a file prefix (the test
// binary's own -cpuprofile would also cover the set-up).
func benchProfile(b *testing.B) func() {
	prefix := os.Getenv("RUMOR_BENCH_PROFILE")
	if prefix == "" {
		return func() {}
	}
	cpu, err := os.Create(prefix + ".cpu")
	if err != nil {
		b.Fatal(err)
	}
	tr, err := os.Create(prefix + ".trace")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	if err := trace.Start(tr); err != nil {
		b.Fatal(err)
	}
	return func() {
		trace.Stop()
		pprof.StopCPUProfile()
		cpu.Close()
		tr.Close()
	}
}

// tcpCopy sends total encoded events over loopback TCP into a file,
// fdatasyncing every MiB, and returns events per second.
func tcpCopy(b *testing.B, total int) float64 {
	enc := sampleEncoding(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		w := bufio.NewWriterSize(c, 1<<20)
		for i := 0; i < total; i++ {
			w.Write(binary.AppendUvarint(nil, uint64(len(enc))))
			w.Write(enc)
		}
		w.Flush()
	}()
	f, err := os.Create(filepath.Join(b.TempDir(), "copy"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start, disk0 := time.Now(), diskWritten()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(c, buf)
		if n > 0 {
			f.Write(buf[:n])
			unix.Fdatasync(int(f.Fd()))
		}
		if err != nil {
			break
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(diskWritten()-disk0)/1e6, "disk-MB")
	return float64(total) / el.Seconds()
}

func sampleEncoding(b *testing.B) []byte {
	payload := json.RawMessage(`{"value":1,"pad":"` + strings.Repeat("x", 256-22) + `"}`)
	e := &event.Event{ID: event.NewID(1, 0, [8]byte{}), Device: "12D3KooWLRPJAA5o6Gj3SDbvvwxWxpKJqpgqsCmXD3FoSbT9ZtYT",
		Seq: 12345, TS: 1, Type: "sensor.reading", Schema: 1, Payload: payload}
	return e.AppendBinary(nil)
}

// startBenchNode is startTestNode for benchmarks.
func startBenchNode(b *testing.B, dir string, peers ...string) *testNode {
	return runNode(b, loopbackConfig(b, dir, peers))
}

// runNode starts a node on cfg and stops it when the test ends.
func runNode(b testing.TB, cfg Config) *testNode {
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{Node: n, dir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() { tn.done <- n.Run(ctx, func(a net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		tn.url = "http://" + a.String()
	case err := <-tn.done:
		b.Fatalf("node did not start: %v", err)
	}
	b.Cleanup(tn.stop)
	return tn
}

func fillNode(b *testing.B, n *Node, total int) {
	in := make([]event.Input, 4096)
	payload := json.RawMessage(`{"value":1,"pad":"` + strings.Repeat("x", 256-22) + `"}`)
	for i := range in {
		in[i] = event.Input{Type: "sensor.reading", Schema: 1, Payload: payload}
	}
	for done := 0; done < total; {
		k := min(len(in), total-done)
		if _, err := n.Store().Ingest(context.Background(), in[:k]); err != nil {
			b.Fatal(err)
		}
		done += k
	}
}

// BenchmarkMeshLatency measures, in a 10-node loopback mesh under steady
// load (one event every 5 ms, from the nodes in turn), the time from a
// durable ingest on one node to the event being durable on all nine
// others.
func BenchmarkMeshLatency(b *testing.B) {
	const size = 10
	var mu sync.Mutex
	arrivals := map[crdt.Dot][]time.Time{}
	hook := func(events []*event.Event) {
		now := time.Now()
		mu.Lock()
		for _, e := range events {
			d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
			arrivals[d] = append(arrivals[d], now)
		}
		mu.Unlock()
	}
	var nodes []*testNode
	for i := 0; i < size; i++ {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.APIAddr = b.TempDir(), "127.0.0.1:0"
		cfg.Listen, cfg.MDNS, cfg.Logger, cfg.OnCommit = []string{"/ip4/127.0.0.1/tcp/0"}, false, logger(), hook
		if i > 0 {
			cfg.Peers = []string{nodes[0].Mesh().Addrs()[0]}
		}
		nodes = append(nodes, runNode(b, cfg))
	}
	for _, n := range nodes { // wait for a full mesh
		for len(n.Mesh().Members()) < size-1 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(2 * time.Second) // let gossipsub build its mesh
	b.ResetTimer()
	var dots []crdt.Dot
	in := []event.Input{{Type: "lat", Schema: 1, Payload: json.RawMessage(`{"value":1}`)}}
	for i := 0; i < b.N; i++ {
		n := nodes[i%size]
		acks, err := n.Store().Ingest(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		dots = append(dots, crdt.Dot{Origin: acks[0].DeviceID, Seq: acks[0].Seq})
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	var lat []time.Duration
	for _, d := range dots {
		for {
			mu.Lock()
			ts := slices.Clone(arrivals[d])
			mu.Unlock()
			if len(ts) == size {
				slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
				lat = append(lat, ts[size-1].Sub(ts[0]))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("event %v reached only %d of %d nodes", d, len(ts), size)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat)), "events")
}
