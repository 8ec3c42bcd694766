package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/metrics"
	"github.com/rumor-sync/rumor/store"
)

// observedStore is the event store as the API sees it: Ingest is timed
// into rumor_ingest_commit_seconds, the rest is delegated.
type observedStore struct {
	api.EventStore
	metrics *metrics.Metrics
	clock   clock.Clock
}

var _ api.EventStore = observedStore{}

// Ingest implements api.EventStore.
func (s observedStore) Ingest(ctx context.Context, inputs []event.Input) ([]store.Ack, error) {
	start := s.clock.Now()
	acks, err := s.EventStore.Ingest(ctx, inputs)
	if err == nil {
		s.metrics.CommitTook(s.clock.Now().Sub(start))
	}
	return acks, err
}

// newMetrics creates the node's metrics over its live state. The sources
// read n's fields at scrape time, so it can run before the stores open.
func (n *Node) newMetrics() (*metrics.Metrics, error) {
	return metrics.New(metrics.Sources{
		Health: n.healthReport,
		Peers: func() int {
			m, _ := n.network()
			if m == nil {
				return 0
			}
			c := 0
			for _, p := range m.Peers() {
				if p.Connected {
					c++
				}
			}
			return c
		},
		Members: func() int {
			if m, _ := n.network(); m != nil {
				return len(m.Members())
			}
			return 0
		},
		BlobBytes: func() (int64, error) { return n.blobs.Bytes() },
		LocalRejected: func() map[string]uint64 {
			out := map[string]uint64{}
			for reason, c := range n.MQTTStats().Rejected {
				out["mqtt_"+reason] = c
			}
			return out
		},
		ClockSkewed: func() map[string]uint64 { return n.store.ClockSkewed() },
		HLCAhead:    n.hlcAhead,
	})
}

// countIngested counts the events of this device in a durable commit,
// whichever way they were ingested (HTTP, MQTT).
func (n *Node) countIngested(c store.Commit) {
	if c.Local > 0 {
		n.metrics.Ingested(c.Local)
	}
}

// healthReport is completeness and lag per device: against what the mesh
// knows when networked, against what this node holds when offline.
func (n *Node) healthReport() gossip.Health {
	if _, r := n.network(); r != nil {
		return r.Health()
	}
	return gossip.LocalHealth(n.store.Context(), n.ID(), n.cfg.Clock).WithRetention(n.archivedWatermarks(), n.store.Floor)
}

// ready answers GET /readyz: the node is ready while it is not closing,
// its store has not failed and, unless offline, its mesh is running.
func (n *Node) ready() error {
	if n.closing.Load() {
		return errors.New("node is shutting down")
	}
	if err := n.store.Err(); err != nil {
		return fmt.Errorf("store failed: %v", err)
	}
	if m, _ := n.network(); m == nil && !n.cfg.Offline {
		return errors.New("network is not running")
	}
	return nil
}
