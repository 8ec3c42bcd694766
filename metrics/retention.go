package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Retention holds the metrics of a device's retention passes. Its methods
// are safe for concurrent use; a nil *Retention does nothing.
type Retention struct {
	pruned, freed                    prometheus.Counter
	disk, short, blocked, unarchived prometheus.Gauge
}

// NewRetention registers the retention metrics on reg.
func NewRetention(reg prometheus.Registerer) (*Retention, error) {
	r := &Retention{
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rumor_pruned_events_total",
			Help: "Raw events deleted by retention (their dots stay in the context, their aggregates stay).",
		}),
		freed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rumor_pruned_segment_bytes_total",
			Help: "Bytes of event log segment files deleted by retention.",
		}),
		disk: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rumor_disk_bytes",
			Help: "Size of the data directory at the last retention pass.",
		}),
		short: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rumor_retention_short_bytes",
			Help: "Estimated bytes the data directory stays over --max-disk after the last retention pass.",
		}),
		blocked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rumor_retention_blocked",
			Help: "1 when the disk budget cannot be met because the events left are not archived yet, else 0.",
		}),
		unarchived: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rumor_unarchived_events",
			Help: "Events held here that no sink has archived yet (retention may not delete them).",
		}),
	}
	err := errors.Join(reg.Register(r.pruned), reg.Register(r.freed), reg.Register(r.disk),
		reg.Register(r.short), reg.Register(r.blocked), reg.Register(r.unarchived))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Pass records one retention pass.
func (r *Retention) Pass(events uint64, segmentBytes, diskBytes, shortBytes int64, blocked bool, unarchived uint64) {
	if r == nil {
		return
	}
	r.pruned.Add(float64(events))
	r.freed.Add(float64(segmentBytes))
	r.disk.Set(float64(diskBytes))
	r.short.Set(float64(shortBytes))
	b := 0.0
	if blocked {
		b = 1
	}
	r.blocked.Set(b)
	r.unarchived.Set(float64(unarchived))
}
