package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/budget"
	"github.com/rumor-sync/rumor/gossip/policy"
)

// SwitchSources are what the sync switch metrics read at every scrape.
// Each func must be safe for concurrent use and return quickly.
type SwitchSources struct {
	// State returns the current switches. Required.
	State func() *policy.State
	// Budget returns the bandwidth budget's totals (zero when offline).
	// Required.
	Budget func() budget.Totals
	// Counters returns the replicator's totals (zero when offline).
	// Required.
	Counters func() gossip.Counters
	// Reloads returns how many config reloads succeeded and failed.
	// Required.
	Reloads func() (ok, failed uint64)
}

// switchCollector computes the switch gauges and counters at scrape time.
type switchCollector struct {
	src                                          SwitchSources
	push, interval, fanout, blobPolicy           *prometheus.Desc
	batch, run, inline, bandwidth, version       *prometheus.Desc
	throttled, waited, announcements, eager, rel *prometheus.Desc
}

// WatchSwitches registers the sync switch metrics over src: each
// setting's current value as a rumor_config_… gauge, and the bytes the
// bandwidth budget held back.
func (m *Metrics) WatchSwitches(src SwitchSources) error {
	if src.State == nil || src.Budget == nil || src.Counters == nil || src.Reloads == nil {
		return errors.New("metrics: SwitchSources.State, Budget, Counters and Reloads are required")
	}
	g := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return m.reg.Register(&switchCollector{
		src:        src,
		push:       g("rumor_config_push", "1 when push announcements are on (sync switch push)."),
		interval:   g("rumor_config_sync_interval_seconds", "Mean time between anti-entropy rounds (sync switch sync_interval)."),
		fanout:     g("rumor_config_sync_fanout", "Peers one anti-entropy round syncs with (sync switch sync_fanout)."),
		blobPolicy: g("rumor_config_blob_policy", "1 for the blob replication policy in force (sync switch blob_policy).", "policy"),
		batch:      g("rumor_config_sync_batch_bytes", "Event bytes per DELTA frame in new sessions (sync switch sync_batch_bytes)."),
		run:        g("rumor_config_sync_run_bytes", "Bytes after which a sealed run ends in new sessions (sync switch sync_run_bytes)."),
		inline:     g("rumor_config_push_inline_bytes", "Event bytes carried inline in one announcement (sync switch push_inline_bytes)."),
		bandwidth:  g("rumor_config_peer_bandwidth_bytes", "Bandwidth budget per peer in bytes/s, 0 = unlimited (sync switch peer_bandwidth)."),
		version:    g("rumor_config_version", "Version of the sync switches: 1 at start, one more per change."),
		throttled: g("rumor_throttled_bytes_total",
			"Bytes to peers (sync and blob streams) that waited for the bandwidth budget."),
		waited:        g("rumor_throttle_wait_seconds_total", "Time writes to peers waited for the bandwidth budget, summed."),
		announcements: g("rumor_push_announcements_total", "Push announcements this node published."),
		eager:         g("rumor_blob_eager_fetches_total", "Blobs queued for a background fetch as their events arrived (blob policy)."),
		rel:           g("rumor_config_reloads_total", "Config reloads (SIGHUP, POST /v1/config/reload), by result (ok, error).", "result"),
	})
}

// Describe implements prometheus.Collector.
func (c *switchCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.push, c.interval, c.fanout, c.blobPolicy, c.batch, c.run, c.inline,
		c.bandwidth, c.version, c.throttled, c.waited, c.announcements, c.eager, c.rel} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *switchCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.State()
	s := st.Settings
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	push := 0.0
	if s.Push {
		push = 1
	}
	gauge(c.push, push)
	gauge(c.interval, s.SyncInterval.Seconds())
	gauge(c.fanout, float64(s.SyncFanout))
	for _, p := range []policy.BlobPolicy{policy.Eager, policy.OnDemand, policy.SinksOnly} {
		v := 0.0
		if s.BlobPolicy == p {
			v = 1
		}
		gauge(c.blobPolicy, v, string(p))
	}
	gauge(c.batch, float64(s.SyncBatchBytes))
	gauge(c.run, float64(s.SyncRunBytes))
	gauge(c.inline, float64(s.PushInlineBytes))
	gauge(c.bandwidth, float64(s.PeerBandwidth))
	gauge(c.version, float64(st.Version))
	b := c.src.Budget()
	counter(c.throttled, float64(b.ThrottledBytes))
	counter(c.waited, b.Waited.Seconds())
	k := c.src.Counters()
	counter(c.announcements, float64(k.Announcements))
	counter(c.eager, float64(k.EagerBlobFetches))
	ok, failed := c.src.Reloads()
	counter(c.rel, float64(ok), "ok")
	counter(c.rel, float64(failed), "error")
}
