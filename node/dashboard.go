package node

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/api/dashboard"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/node/series"
	"github.com/rumor-sync/rumor/store"
)

// newSeries returns the activity series behind the dashboard's charts.
// It exists before the store opens, since every commit feeds it.
func newSeries(c clock.Clock) (*series.Sampler, error) {
	cfg := series.DefaultConfig()
	cfg.Clock = c
	return series.New(cfg)
}

// mountDashboard serves the series and the dashboard page on the API:
// GET /v1/series, GET / and GET /ui/….
func (n *Node) mountDashboard() {
	n.api.Handle("GET /v1/series", n.series)
	ui := dashboard.Handler()
	n.api.Handle("GET /{$}", ui)
	n.api.Handle("GET "+dashboard.AssetPrefix, ui)
}

// countCommit feeds a durable commit to the series: events of this
// device were ingested here, the others came from peers.
func (n *Node) countCommit(c store.Commit) {
	if c.Local > 0 {
		n.series.Ingested(c.Local)
	}
	if len(c.Events) > c.Local {
		n.series.Received(len(c.Events) - c.Local)
	}
}

// seriesObserver feeds finished sync sessions to the series.
type seriesObserver struct{ s *series.Sampler }

func (o seriesObserver) SessionDone(rec gossip.SessionRecord) { o.s.Session(rec.BytesIn, rec.BytesOut) }
func (seriesObserver) Rejected(peer.ID, string)               {}
func (seriesObserver) Received(peer.ID, int)                  {}

// observers fans replication events out to several observers.
type observers []gossip.Observer

func (os observers) SessionDone(rec gossip.SessionRecord) {
	for _, o := range os {
		o.SessionDone(rec)
	}
}

func (os observers) Rejected(p peer.ID, reason string) {
	for _, o := range os {
		o.Rejected(p, reason)
	}
}

func (os observers) Received(p peer.ID, n int) {
	for _, o := range os {
		o.Received(p, n)
	}
}

var _ gossip.Observer = observers(nil)
