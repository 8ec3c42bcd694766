package node

import (
	"context"
	"time"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/store"
)

// snapshotStore adapts the store to the snapshot protocol's types.
type snapshotStore struct{ s *store.Store }

var (
	_ gossip.SnapshotSource = snapshotStore{}
	_ gossip.Joiner         = snapshotStore{}
)

// ExportSnapshot implements gossip.SnapshotSource.
func (a snapshotStore) ExportSnapshot(cutoffMs int64, maxBytes int, header func(*gossip.Snapshot) error,
	run func([]*event.Event, *event.Seal) error) error {
	return a.s.ExportSnapshot(cutoffMs, maxBytes, func(h *store.SnapshotHeader) error {
		g := &gossip.Snapshot{Context: h.Context, Floors: h.Floors, Aggs: make([]gossip.SnapshotAgg, len(h.Aggs))}
		for i, r := range h.Aggs {
			g.Aggs[i] = gossip.SnapshotAgg{Key: r.Key, Agg: r.Agg}
		}
		return header(g)
	}, run)
}

// Apply implements gossip.Joiner.
func (a snapshotStore) Apply(ctx context.Context, events []*event.Event, seals []event.Seal) ([]*event.Event, error) {
	return a.s.Apply(ctx, events, seals)
}

// Install implements gossip.Joiner.
func (a snapshotStore) Install(ctx context.Context, g *gossip.Snapshot) error {
	h := &store.SnapshotHeader{Context: g.Context, Floors: g.Floors, Aggs: make([]store.AggRow, len(g.Aggs))}
	for i, r := range g.Aggs {
		h.Aggs[i] = store.AggRow{Key: r.Key, Agg: r.Agg}
	}
	return a.s.Install(ctx, h)
}

// joinWait bounds the wait for a neighbour to join from.
const joinWait = 10 * time.Second

// maybeJoin starts a device whose store is empty from a neighbour's
// snapshot, when Retention.Retain or Retention.JoinSnapshot asks for it:
// the neighbour's context and aggregates, and only the raw events within
// the retention window. It runs before replication starts, so no session
// pulls the whole history first. A node with no static peer and no mDNS
// has no one to ask and skips it; when no neighbour answers within
// joinWait, or the snapshot fails, the node syncs the history as usual.
func (n *Node) maybeJoin(ctx context.Context, m *mesh.Mesh) {
	rc := n.cfg.Retention
	switch {
	case n.cfg.Role != RoleDevice, !rc.JoinSnapshot && rc.Retain == 0, n.store.Summary().Events != 0:
		return
	case len(n.cfg.Peers) == 0 && !n.cfg.MDNS:
		return
	}
	var cutoff int64
	if rc.Retain > 0 {
		cutoff = n.cfg.Clock.Now().Add(-rc.Retain).UnixMilli()
	}
	start := n.cfg.Clock.Now()
	res, err := gossip.Join(ctx, gossip.JoinConfig{Mesh: m, Store: snapshotStore{n.store}, CutoffMs: cutoff, Wait: joinWait, Logger: n.log,
		CheckEvent: n.eventCheck()})
	if err != nil {
		n.log.Warn("could not join from a snapshot; syncing the history instead", "err", err)
		return
	}
	n.log.Info("joined from a neighbour's snapshot", "peer", res.Peer, "events", res.Events, "bytes", res.Bytes,
		"context_events", n.store.Summary().Events, "duration", n.cfg.Clock.Now().Sub(start))
}
