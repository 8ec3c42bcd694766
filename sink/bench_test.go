package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// benchEvents is how many events the archive benchmark archives per
// iteration: RUMOR_BENCH_EVENTS, default 1,000,000.
func benchEvents(b *testing.B) int {
	if s := os.Getenv("RUMOR_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("RUMOR_BENCH_EVENTS=%q", s)
		}
		return n
	}
	return 1_000_000
}

// benchStore returns a sink's store holding n events of 4 origins (its
// own and three received), typical sensor readings.
func benchStore(b *testing.B, n int) *node {
	b.Helper()
	dir := b.TempDir()
	clk := clock.NewManual(t0)
	sink := openNode(b, filepath.Join(dir, "sink"), 1, clk)
	per := n / 4
	for seed := byte(1); seed <= 4; seed++ {
		src := sink
		if seed > 1 {
			src = openNode(b, filepath.Join(dir, fmt.Sprint(seed)), seed, clock.NewManual(t0))
		}
		for done := 0; done < per; {
			k := min(4096, per-done)
			in := make([]event.Input, k)
			for i := range in {
				in[i] = event.Input{Type: "sensor.reading", Schema: 1, Payload: json.RawMessage(fmt.Sprintf(
					`{"sensor":"t-%d","value":%d.%d,"unit":"C","battery":%d}`, (done+i)%50, 15+(done+i)%20, (done+i)%10, 100-(done+i)%100))}
			}
			if _, err := src.st.Ingest(context.Background(), in); err != nil {
				b.Fatal(err)
			}
			done += k
			clk.Advance(10 * time.Millisecond)
		}
		if src != sink {
			sink.from(b, src)
			src.close(b)
		}
	}
	return sink
}

// BenchmarkArchive measures archiving from the store to durable Parquet
// files in a directory bucket, against a baseline measured in the same
// run: reading the same events from the store and appending their raw
// canonical encodings to one file with one fdatasync per 100,000 events
// (the least any durable copy costs). It reports events/s of both, their
// ratio, and the Parquet bytes per event against the raw encoding's.
// Run with -benchtime 1x; RUMOR_BENCH_EVENTS sets the size.
func BenchmarkArchive(b *testing.B) {
	n := benchEvents(b)
	src := benchStore(b, n)
	defer src.close(b)
	var raw struct{ rate, bytes float64 }
	b.Run("raw-copy", func(b *testing.B) {
		var bytes int64
		start := time.Now()
		for i := 0; i < b.N; i++ {
			bytes = rawCopy(b, src.st, filepath.Join(b.TempDir(), "raw"))
		}
		raw.rate = float64(n*b.N) / time.Since(start).Seconds()
		raw.bytes = float64(bytes) / float64(n)
		b.ReportMetric(raw.rate, "events/s")
		b.ReportMetric(raw.bytes, "bytes/event")
	})
	b.Run("parquet", func(b *testing.B) {
		var bytes int64
		start := time.Now()
		for i := 0; i < b.N; i++ {
			bytes = archiveOnce(b, src, filepath.Join(b.TempDir(), "archive"), n)
		}
		rate := float64(n*b.N) / time.Since(start).Seconds()
		perEvent := float64(bytes) / float64(n)
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(perEvent, "bytes/event")
		if raw.rate > 0 {
			b.ReportMetric(rate/raw.rate, "x-raw-copy-rate")
			b.ReportMetric(perEvent/raw.bytes, "x-raw-bytes")
		}
	})
}

// rawCopy appends every event's canonical encoding to path, fdatasyncing
// every 100,000 events and at the end; it returns the bytes written.
func rawCopy(b *testing.B, st *store.Store, path string) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var buf []byte
	var total int64
	count := 0
	flush := func() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		total += int64(len(buf))
		buf = buf[:0]
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	err = st.ScanReceived(store.Query{}, func(e *event.Event, _ int64) error {
		buf = e.AppendBinary(buf)
		if count++; count%100_000 == 0 {
			flush()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	flush()
	return total
}

// archiveOnce archives every event of src into a new directory bucket at
// root with the default file size, and returns the bytes of its files.
func archiveOnce(b *testing.B, src *node, root string, n int) int64 {
	bk, err := OpenBucket(context.Background(), root)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Bucket, cfg.Events, cfg.Blobs, cfg.Clock, cfg.Logger = bk, src.st, src.blobs, src.clk, quiet()
	cfg.Redactions, cfg.Ledger = src.st, NewLedger(src.st.DB(), []byte{store.PrefixSinkState}) // as a node runs it
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	drain(b, a, src.clk)
	files, _ := a.Files(FileQuery{})
	var bytes int64
	rows := uint64(0)
	for _, f := range files {
		bytes += f.Bytes
		rows += f.Rows()
	}
	if rows != uint64(n/4*4) {
		b.Fatalf("archived %d events, want %d", rows, n/4*4)
	}
	return bytes
}
