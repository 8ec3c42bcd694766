package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rumor-sync/rumor/gossip"
)

// Sources are the node's state, read at every scrape. Each func must be
// safe for concurrent use and return quickly; all but LocalRejected are
// required.
type Sources struct {
	// Health returns completeness and lag per device.
	Health func() gossip.Health
	// Peers returns how many peers are connected now.
	Peers func() int
	// Members returns how many live members the mesh has, this node excluded.
	Members func() int
	// BlobBytes returns the bytes held in the blob store. On error the
	// gauge is left out of that scrape.
	BlobBytes func() (int64, error)
	// LocalRejected, if set, returns local input rejected since the node
	// started, by reason (MQTT messages, say); each reason becomes a
	// rumor_events_rejected_total series with an empty peer label.
	LocalRejected func() map[string]uint64
	// ClockSkewed, if set, returns per origin device how many received
	// events were too far ahead for the node's clock to follow
	// (rumor_clock_skew_events_total).
	ClockSkewed func() map[string]uint64
	// HLCAhead, if set, returns how many seconds the node's hybrid
	// logical clock is ahead of its physical clock (rumor_hlc_ahead_seconds).
	HLCAhead func() float64
}

func (s Sources) validate() error {
	if s.Health == nil || s.Peers == nil || s.Members == nil || s.BlobBytes == nil {
		return errors.New("metrics: Sources.Health, Peers, Members and BlobBytes are required")
	}
	return nil
}

// stateCollector computes the state gauges at scrape time.
type stateCollector struct {
	src                               Sources
	completeness, lag, peers, members *prometheus.Desc
	blobBytes                         *prometheus.Desc
}

func newStateCollector(src Sources) *stateCollector {
	return &stateCollector{
		src: src,
		completeness: prometheus.NewDesc("rumor_completeness_ratio",
			"Events held here ÷ the highest seq known anywhere in the mesh, summed over devices (1 = complete).", nil, nil),
		lag: prometheus.NewDesc("rumor_lag_seconds",
			"Per origin device, how long events known to exist have been missing here (0 = none missing).",
			[]string{"device"}, nil),
		peers:     prometheus.NewDesc("rumor_peers", "Peers connected now.", nil, nil),
		members:   prometheus.NewDesc("rumor_members", "Live members of the mesh, this node excluded.", nil, nil),
		blobBytes: prometheus.NewDesc("rumor_blob_bytes", "Bytes held in the blob store.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.completeness, c.lag, c.peers, c.members, c.blobBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.src.Health()
	ch <- prometheus.MustNewConstMetric(c.completeness, prometheus.GaugeValue, h.Completeness)
	for _, d := range h.Devices {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, d.LagSeconds, d.DeviceID)
	}
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(c.src.Peers()))
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(c.src.Members()))
	if n, err := c.src.BlobBytes(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.blobBytes, prometheus.GaugeValue, float64(n))
	}
}
