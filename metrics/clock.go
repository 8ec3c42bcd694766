package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// clockCollector exposes the node's hybrid logical clock, read at scrape
// time: how many received events it refused to follow because their
// stamp was too far ahead (by origin device), and how far its reading is
// ahead of its own physical clock.
type clockCollector struct {
	skewed func() map[string]uint64
	ahead  func() float64

	skewedDesc, aheadDesc *prometheus.Desc
}

func newClockCollector(src Sources) *clockCollector {
	return &clockCollector{
		skewed: src.ClockSkewed,
		ahead:  src.HLCAhead,
		skewedDesc: prometheus.NewDesc("rumor_clock_skew_events_total",
			"Received events whose HLC was more than --max-clock-skew ahead of this node's clock: stored, but not followed. By origin device.",
			[]string{"device"}, nil),
		aheadDesc: prometheus.NewDesc("rumor_hlc_ahead_seconds",
			"How far this node's hybrid logical clock is ahead of its physical clock (0 unless it followed a peer whose clock is ahead).",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *clockCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.skewedDesc
	ch <- c.aheadDesc
}

// Collect implements prometheus.Collector.
func (c *clockCollector) Collect(ch chan<- prometheus.Metric) {
	if c.skewed != nil {
		for device, n := range c.skewed() {
			ch <- prometheus.MustNewConstMetric(c.skewedDesc, prometheus.CounterValue, float64(n), device)
		}
	}
	if c.ahead != nil {
		ch <- prometheus.MustNewConstMetric(c.aheadDesc, prometheus.GaugeValue, c.ahead())
	}
}
