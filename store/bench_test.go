package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	"github.com/rumor-sync/rumor/event"
)

// benchBatch is the number of events each writer submits per request.
const benchBatch = 64

// benchPayload is a 256-byte JSON object payload.
var benchPayload = json.RawMessage(`{"value":42,"pad":"` + strings.Repeat("x", 256-22) + `"}`)

// ingestResults holds the baselines measured earlier in the same run, so
// the rumor sub-benchmark can print its ratios against them.
var ingestResults = map[string]float64{}

// BenchmarkIngest compares durable ingest through Store.Ingest with (a)
// bare badger WriteBatch with SyncWrites and (b) plain append + fdatasync
// group commit of the same bytes, for 1, 16 and 64 concurrent writers each
// submitting requests of benchBatch events. Run with -benchtime 2000x or so.
func BenchmarkIngest(b *testing.B) {
	b.Run("fsync", benchFsync)
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d/file", writers), func(b *testing.B) { benchFile(b, writers) })
		b.Run(fmt.Sprintf("writers=%d/badger", writers), func(b *testing.B) { benchBadger(b, writers) })
		b.Run(fmt.Sprintf("writers=%d/rumor", writers), func(b *testing.B) { benchRumor(b, writers) })
	}
}

// sampleEncoding is the canonical encoding of one benchmark event.
func sampleEncoding(b *testing.B) []byte {
	k := newKey(b, 1)
	e := &event.Event{ID: event.NewID(1, 0, [8]byte{}), Device: k.origin, Seq: 12345, TS: 1_700_000_000_000,
		Type: "sensor.reading", Schema: 1, Payload: benchPayload}
	return e.AppendBinary(nil)
}

// runWriters runs fn from writers goroutines b.N times in total and reports
// throughput and per-request latency percentiles.
func runWriters(b *testing.B, writers int, fn func(w, i int) error) {
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		n := b.N / writers
		if w < b.N%writers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				t := time.Now()
				if err := fn(w, i); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	rate := float64(b.N*benchBatch) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	ingestResults[b.Name()] = rate
	ingestResults[b.Name()+"/p50"] = float64(all[len(all)/2])
	ingestResults[b.Name()+"/p99"] = float64(all[len(all)*99/100])
}

// benchFsync measures one fdatasync of one request's bytes: the latency floor.
func benchFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, benchBatch*len(sampleEncoding(b)))
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		f.Write(buf)
		t := time.Now()
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	ingestResults[b.Name()+"/p50"] = float64(lat[len(lat)/2])
	ingestResults[b.Name()+"/p99"] = float64(lat[len(lat)*99/100])
}

// groupFile is the baseline: append under a lock, one leader fdatasyncs
// for everyone waiting.
type groupFile struct {
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	pending []byte
	seq     uint64 // appends requested
	synced  uint64 // appends durable
	syncing bool
}

func (g *groupFile) append(p []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = append(g.pending, p...)
	g.seq++
	my := g.seq
	for g.synced < my {
		if g.syncing {
			g.cond.Wait()
			continue
		}
		g.syncing = true
		buf, upto := g.pending, g.seq
		g.pending = nil
		g.mu.Unlock()
		_, err := g.f.Write(buf)
		if err == nil {
			err = unix.Fdatasync(int(g.f.Fd()))
		}
		g.mu.Lock()
		g.syncing = false
		if err != nil {
			g.cond.Broadcast()
			return err
		}
		g.synced = upto
		g.cond.Broadcast()
	}
	return nil
}

func benchFile(b *testing.B, writers int) {
	f, err := os.Create(filepath.Join(b.TempDir(), "log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	g := &groupFile{f: f}
	g.cond = sync.NewCond(&g.mu)
	one := sampleEncoding(b)
	batch := make([]byte, 0, benchBatch*(len(one)+2))
	for i := 0; i < benchBatch; i++ {
		batch = binary.AppendUvarint(batch, uint64(len(one)))
		batch = append(batch, one...)
	}
	runWriters(b, writers, func(_, _ int) error { return g.append(batch) })
}

func benchBadger(b *testing.B, writers int) {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	one := sampleEncoding(b)
	runWriters(b, writers, func(w, i int) error {
		wb := db.NewWriteBatch()
		defer wb.Cancel()
		for j := 0; j < benchBatch; j++ {
			key := binary.BigEndian.AppendUint64([]byte{byte(w)}, uint64(i*benchBatch+j))
			if err := wb.Set(key, one); err != nil {
				return err
			}
		}
		return wb.Flush()
	})
}

func benchRumor(b *testing.B, writers int) {
	cfg := testConfig(b.TempDir(), newKey(b, 1))
	if v := os.Getenv("MEMTABLE_MB"); v != "" {
		var mb int64
		fmt.Sscan(v, &mb)
		cfg.MemTableBytes = mb << 20
	}
	s := openStore(b, cfg)
	defer s.Close()
	in := make([]event.Input, benchBatch)
	for i := range in {
		in[i] = event.Input{Type: "sensor.reading", Schema: 1, Payload: benchPayload}
	}
	runWriters(b, writers, func(_, _ int) error {
		_, err := s.Ingest(context.Background(), in)
		return err
	})
	parent := strings.TrimSuffix(b.Name(), "/rumor")
	if file := ingestResults[parent+"/file"]; file > 0 {
		b.ReportMetric(ingestResults[b.Name()]/file, "x-file")
	}
	if bdg := ingestResults[parent+"/badger"]; bdg > 0 {
		b.ReportMetric(ingestResults[b.Name()]/bdg, "x-badger")
	}
	if fs := ingestResults["BenchmarkIngest/fsync/p50"]; fs > 0 {
		b.ReportMetric(ingestResults[b.Name()+"/p50"]/fs, "p50-x-fsync")
		b.ReportMetric(ingestResults[b.Name()+"/p99"]/fs, "p99-x-fsync")
	}
	if fs := ingestResults["BenchmarkIngest/fsync/p99"]; fs > 0 {
		// The disk's own tail: one fdatasync's p99 is several times its p50.
		b.ReportMetric(ingestResults[b.Name()+"/p99"]/fs, "p99-x-fsync-p99")
	}
}
