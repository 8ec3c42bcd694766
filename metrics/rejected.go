package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// rejections is rumor_events_rejected_total: data from peers counted as
// the replicator reports it, plus local input (MQTT) rejected, read from
// Sources.LocalRejected at scrape time with an empty peer label.
type rejections struct {
	desc  *prometheus.Desc
	local func() map[string]uint64 // may be nil

	mu     sync.Mutex
	counts map[[2]string]uint64 // (reason, peer) -> count
}

func newRejections(local func() map[string]uint64) *rejections {
	return &rejections{
		desc: prometheus.NewDesc("rumor_events_rejected_total",
			"Data rejected, by reason and by the peer that sent it (empty for local input such as MQTT).",
			[]string{"reason", "peer"}, nil),
		local:  local,
		counts: map[[2]string]uint64{},
	}
}

func (r *rejections) add(reason, peer string) {
	r.mu.Lock()
	r.counts[[2]string{reason, peer}]++
	r.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (r *rejections) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

// Collect implements prometheus.Collector.
func (r *rejections) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	all := make(map[[2]string]uint64, len(r.counts))
	for k, v := range r.counts {
		all[k] = v
	}
	r.mu.Unlock()
	if r.local != nil {
		for reason, v := range r.local() {
			all[[2]string{reason, ""}] += v
		}
	}
	for k, v := range all {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.CounterValue, float64(v), k[0], k[1])
	}
}
