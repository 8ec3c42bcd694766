// Package metrics exposes a node's Prometheus metrics, all named rumor_…,
// on a registry of its own (never the global one), next to the Go runtime
// and process collectors.
//
// Counters and histograms are fed as things happen: Metrics implements
// gossip.Observer for sessions, received and rejected data, and the node
// calls Ingested after every durable local commit and CommitTook with the
// time each ingest took. Gauges that describe state
// (completeness, lag, peers, members, blob bytes) are computed when
// Prometheus scrapes, by calling the Sources the node passes to New, so
// they are never stale and cost nothing between scrapes.
//
//	m, err := metrics.New(metrics.Sources{Health: repl.Health, Peers: ..., Members: ..., BlobBytes: blobs.Bytes})
//	gossipCfg.Observer = m                 // sessions, received, rejected
//	m.Ingested(n); m.CommitTook(d)         // from the node's commit hook and ingest path
//	mux.Handle("GET /metrics", m.Handler())
package metrics

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rumor-sync/rumor/gossip"
)

// sessionResults are the results a session can have (gossip's outcomes).
var sessionResults = []string{"ok", "timeout", "protocol_error", "remote_error", "failed"}

// Metrics holds a node's metrics. Its methods are safe for concurrent use
// and never block.
type Metrics struct {
	reg *prometheus.Registry

	ingested       prometheus.Counter
	received       *prometheus.CounterVec // peer
	rejected       *rejections
	sessions       *prometheus.CounterVec // result
	sessionSeconds prometheus.Histogram
	deltaBytes     prometheus.Histogram
	commitSeconds  prometheus.Histogram
}

var _ gossip.Observer = (*Metrics)(nil)

// New registers every rumor_… metric, the state collector over src, and
// the Go and process collectors on a new registry.
func New(src Sources) (*Metrics, error) {
	if err := src.validate(); err != nil {
		return nil, err
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rumor_events_ingested_total",
			Help: "Events ingested locally (HTTP API, MQTT) and made durable.",
		}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rumor_events_received_total",
			Help: "New events received from peers and stored, by the peer that sent them.",
		}, []string{"peer"}),
		rejected: newRejections(src.LocalRejected),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rumor_sync_sessions_total",
			Help: "Anti-entropy sessions finished, by result (" + strings.Join(sessionResults, ", ") + ").",
		}, []string{"result"}),
		sessionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rumor_sync_session_seconds",
			Help:    "Duration of anti-entropy sessions.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1 ms .. 262 s
		}),
		deltaBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rumor_delta_bytes",
			Help:    "Bytes received per anti-entropy session, frame headers included.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 12), // 256 B .. 1 GiB
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rumor_ingest_commit_seconds",
			Help:    "Time from an ingest request reaching the store to its events being durable.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms .. 4 s
		}),
	}
	err := errors.Join(
		m.reg.Register(m.ingested), m.reg.Register(m.received), m.reg.Register(m.rejected),
		m.reg.Register(m.sessions), m.reg.Register(m.sessionSeconds), m.reg.Register(m.deltaBytes),
		m.reg.Register(m.commitSeconds), m.reg.Register(newStateCollector(src)),
		m.reg.Register(newClockCollector(src)),
		m.reg.Register(collectors.NewGoCollector()),
		m.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	)
	if err != nil {
		return nil, err
	}
	for _, res := range sessionResults { // present from the start, at 0
		m.sessions.WithLabelValues(res)
	}
	return m, nil
}

// Registry returns the registry, for components that add metrics of
// their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Ingested counts n local events made durable.
func (m *Metrics) Ingested(n int) { m.ingested.Add(float64(n)) }

// CommitTook records that one local ingest took d to become durable.
func (m *Metrics) CommitTook(d time.Duration) { m.commitSeconds.Observe(d.Seconds()) }

// SessionDone implements gossip.Observer.
func (m *Metrics) SessionDone(rec gossip.SessionRecord) {
	m.sessions.WithLabelValues(rec.Outcome).Inc()
	m.sessionSeconds.Observe(rec.Duration.Seconds())
	m.deltaBytes.Observe(float64(rec.BytesIn))
}

// Rejected implements gossip.Observer.
func (m *Metrics) Rejected(p peer.ID, reason string) {
	m.rejected.add(reason, p.String())
}

// Received implements gossip.Observer.
func (m *Metrics) Received(p peer.ID, n int) {
	m.received.WithLabelValues(p.String()).Add(float64(n))
}
