package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/mesh"
)

// startNetwork starts the libp2p host, membership and replication.
func (n *Node) startNetwork(ctx context.Context) error {
	if n.cfg.Offline {
		return nil
	}
	mcfg := mesh.DefaultConfig()
	mcfg.Key, mcfg.Listen, mcfg.Peers = n.id.Key, n.cfg.Listen, n.cfg.Peers
	mcfg.Mesh, mcfg.MDNS, mcfg.Role = n.cfg.Mesh, n.cfg.MDNS, n.cfg.Role
	mcfg.Logger, mcfg.Clock = n.log, n.cfg.Clock
	if n.cfg.SecretFile != "" {
		b, err := os.ReadFile(n.cfg.SecretFile)
		if err != nil {
			return fmt.Errorf("node: read mesh secret: %w", err)
		}
		if mcfg.Secret, err = mesh.ParseSecret(b); err != nil {
			return fmt.Errorf("node: mesh secret %s: %w", n.cfg.SecretFile, err)
		}
	}
	m, err := mesh.New(ctx, mcfg)
	if err != nil {
		return fmt.Errorf("node: start mesh: %w", err)
	}
	n.maybeJoin(ctx, m)
	gcfg := gossip.DefaultConfig()
	gcfg.Mesh, gcfg.Store, gcfg.Blobs = m, n.store, redactedBlobs{n.blobs, n.store}
	gcfg.MaxProtocol = uint8(n.cfg.SyncProtocol)
	gcfg.Clock, gcfg.Logger = n.cfg.Clock, n.log
	gcfg.Policy, gcfg.Sink, gcfg.Session.Window = n.sw.holder, n.cfg.Role == RoleSink, syncWindow
	n.retentionGossip(&gcfg)
	gcfg.Observer = observers{seriesObserver{n.series}, n.metrics}
	gcfg.CheckEvent = n.eventCheck()
	r, err := gossip.New(gcfg)
	if err != nil {
		m.Close()
		return err
	}
	if err := r.Start(ctx); err != nil {
		m.Close()
		return err
	}
	n.netMu.Lock()
	n.mesh, n.repl = m, r
	n.netMu.Unlock()
	n.log.Info("mesh up", "mesh", n.cfg.Mesh, "addrs", m.Addrs(), "private", mcfg.Secret != nil)
	return nil
}

// stopNetwork stops replication, then the host.
func (n *Node) stopNetwork() error {
	n.netMu.Lock()
	m, r := n.mesh, n.repl
	n.mesh, n.repl = nil, nil
	n.netMu.Unlock()
	if m == nil {
		return nil
	}
	err := r.Close()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, context.Canceled) { // the run's context ended: expected
		err = nil
	}
	return err
}

// network returns the running mesh and replicator, or nils.
func (n *Node) network() (*mesh.Mesh, *gossip.Replicator) {
	n.netMu.Lock()
	defer n.netMu.Unlock()
	return n.mesh, n.repl
}

// Replicator returns the running replicator, or nil when offline.
func (n *Node) Replicator() *gossip.Replicator {
	_, r := n.network()
	return r
}

// Mesh returns the running mesh, or nil when offline.
func (n *Node) Mesh() *mesh.Mesh {
	m, _ := n.network()
	return m
}

func (n *Node) info() api.Info {
	info := api.Info{DeviceID: n.ID(), Role: n.cfg.Role, Mesh: n.cfg.Mesh}
	m, _ := n.network()
	if m == nil {
		return info
	}
	info.Addrs = m.Addrs()
	for _, p := range m.Peers() {
		ap := api.Peer{ID: p.ID.String(), Addrs: p.Addrs, Connected: p.Connected}
		if !p.LastSeen.IsZero() {
			ap.LastSeen = p.LastSeen.UTC().Format(time.RFC3339)
		}
		info.Peers = append(info.Peers, ap)
	}
	for _, mem := range m.Members() {
		info.Members = append(info.Members, api.Member{ID: mem.ID.String(), Role: mem.Role, Addrs: mem.Addrs})
	}
	return info
}

func (n *Node) health() any { return n.healthReport() }

// fetchBlob assembles a blob from peers for the API.
func (n *Node) fetchBlob(ctx context.Context, c cid.Cid) error {
	_, r := n.network()
	if r == nil || n.store.BlobRedacted(c) {
		return gossip.ErrBlobUnavailable
	}
	return r.FetchBlob(ctx, c, "")
}
