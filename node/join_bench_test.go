package node

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
)

// fillAged ingests total events into n, all but one in a hundred with event
// times spread over the 30 days before yesterday, the rest from now on.
func fillAged(b *testing.B, n *Node, total int) {
	b.Helper()
	payload := json.RawMessage(`{"value":1,"pad":"` + strings.Repeat("x", 256-22) + `"}`)
	recent := max(1, total/100)
	old, now := time.Now().Add(-31*24*time.Hour).UnixMilli(), time.Now().UnixMilli()
	step := max(1, int64(30*24*time.Hour/time.Millisecond)/int64(total-recent+1))
	in := make([]event.Input, 4096)
	for done := 0; done < total; {
		k := min(len(in), total-done)
		for i := range in[:k] {
			seq := done + i
			ts := old + int64(seq)*step
			if seq >= total-recent {
				ts = now + int64(seq)
			}
			in[i] = event.Input{Type: "sensor.reading", Schema: 1, TS: ts, HasTS: true, Payload: payload}
		}
		if _, err := n.Store().Ingest(context.Background(), in[:k]); err != nil {
			b.Fatalf("at %d of %d: %v", done, total, err)
		}
		done += k
	}
}

var joinBaseline float64

// BenchmarkJoin measures how long a fresh device takes to join a
// neighbour holding RUMOR_BENCH_EVENTS events (default 1,000,000), 99% of
// them older than a day: pulling the whole history (the baseline), and
// with --retain 24h, starting from the neighbour's snapshot and pulling
// only the events within the window. A join is done when the device's
// causal context equals the neighbour's.
func BenchmarkJoin(b *testing.B) {
	total := benchEvents()
	src := startBenchNode(b, "")
	fillAged(b, src.Node, total)
	want := src.Store().Summary()
	join := func(b *testing.B, retain time.Duration) (time.Duration, uint64) {
		cfg := loopbackConfig(b, "", []string{src.Mesh().Addrs()[0]})
		cfg.Retention.Retain, cfg.Retention.Interval = retain, time.Hour
		start := time.Now()
		dst := runNode(b, cfg)
		for dst.Store().Summary().Digest != want.Digest {
			time.Sleep(5 * time.Millisecond)
		}
		el := time.Since(start)
		held := uint64(0)
		for _, o := range dst.Store().Context().Origins() {
			held += dst.Store().Context().Max(o) - dst.Store().Floor(o)
		}
		dst.stop()
		return el, held
	}
	b.Run("full-history", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			el, held := join(b, 0)
			joinBaseline = el.Seconds()
			b.ReportMetric(el.Seconds(), "seconds")
			b.ReportMetric(float64(held), "events-held")
		}
	})
	b.Run("snapshot-1d", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			el, held := join(b, 24*time.Hour)
			b.ReportMetric(el.Seconds(), "seconds")
			b.ReportMetric(float64(held), "events-held")
			if joinBaseline > 0 {
				b.ReportMetric(joinBaseline/el.Seconds(), "x-faster")
			}
		}
	})
}
