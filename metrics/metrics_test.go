package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/metrics"
)

func sources(blobErr error) metrics.Sources {
	return metrics.Sources{
		Health: func() gossip.Health {
			return gossip.Health{Completeness: 0.75, Devices: []gossip.DeviceHealth{
				{DeviceID: "devA", LagSeconds: 0}, {DeviceID: "devB", LagSeconds: 12.5},
			}}
		},
		Peers:     func() int { return 2 },
		Members:   func() int { return 3 },
		BlobBytes: func() (int64, error) { return 4096, blobErr },
		LocalRejected: func() map[string]uint64 {
			return map[string]uint64{"mqtt_malformed": 2, "fork": 1} // "fork" also comes from a peer
		},
		ClockSkewed: func() map[string]uint64 { return map[string]uint64{"devB": 4} },
		HLCAhead:    func() float64 { return 1.5 },
	}
}

// scrape serves m's handler once and returns the text exposition.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body.String())
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetricsCountAndReportState(t *testing.T) {
	m, err := metrics.New(sources(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := peer.ID("peer-one")
	m.Ingested(3)
	m.Ingested(2)
	m.CommitTook(2 * time.Millisecond)
	m.CommitTook(4 * time.Millisecond)
	m.Received(p, 7)
	m.Rejected(p, "fork")
	m.Rejected("", "fork") // collides with a local reason: summed, not a duplicate series
	m.SessionDone(gossip.SessionRecord{Outcome: "ok", Duration: 30 * time.Millisecond, BytesIn: 1000})
	m.SessionDone(gossip.SessionRecord{Outcome: "timeout", Duration: time.Second})
	text := scrape(t, m)
	for _, want := range []string{
		"rumor_events_ingested_total 5",
		`rumor_events_received_total{peer="` + p.String() + `"} 7`,
		`rumor_events_rejected_total{peer="` + p.String() + `",reason="fork"} 1`,
		`rumor_events_rejected_total{peer="",reason="mqtt_malformed"} 2`,
		`rumor_events_rejected_total{peer="",reason="fork"} 2`,
		`rumor_sync_sessions_total{result="protocol_error"} 0`,
		`rumor_sync_sessions_total{result="ok"} 1`,
		`rumor_sync_sessions_total{result="timeout"} 1`,
		"rumor_sync_session_seconds_count 2",
		"rumor_delta_bytes_sum 1000",
		"rumor_ingest_commit_seconds_count 2",
		"rumor_completeness_ratio 0.75",
		`rumor_lag_seconds{device="devA"} 0`,
		`rumor_lag_seconds{device="devB"} 12.5`,
		"rumor_peers 2",
		"rumor_members 3",
		"rumor_blob_bytes 4096",
		`rumor_clock_skew_events_total{device="devB"} 4`,
		"rumor_hlc_ahead_seconds 1.5",
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(text, "\n"+want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestBlobBytesErrorLeavesGaugeOut(t *testing.T) {
	m, err := metrics.New(sources(errors.New("closed")))
	if err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	if strings.Contains(text, "\nrumor_blob_bytes ") {
		t.Error("blob bytes reported despite an error")
	}
	if !strings.Contains(text, "\nrumor_peers 2") {
		t.Error("other gauges missing")
	}
}

func TestNewNeedsSources(t *testing.T) {
	if _, err := metrics.New(metrics.Sources{}); err == nil {
		t.Fatal("New accepted empty sources")
	}
}

// Two registries in one process (two nodes in a test) must not clash.
func TestIndependentRegistries(t *testing.T) {
	for range 2 {
		if _, err := metrics.New(sources(nil)); err != nil {
			t.Fatal(err)
		}
	}
}
