package mesh

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// PeerInfo describes a peer this node knows of, from any source: static
// configuration, mDNS, membership, or an inbound connection from a mesh
// peer.
type PeerInfo struct {
	// ID is the peer's ID, its device ID.
	ID peer.ID
	// Addrs are the peer's known addresses (from the peerstore), as full
	// multiaddrs ending in /p2p/<id>.
	Addrs []string
	// Connected reports a live libp2p connection.
	Connected bool
	// LastSeen is when the peer was last connected or reported alive by
	// membership (now, if connected); zero if never.
	LastSeen time.Time
}

// Peers returns every peer known, sorted by ID. Peers are never forgotten
// while the node runs.
func (m *Mesh) Peers() []PeerInfo {
	m.mu.Lock()
	known := maps.Clone(m.known)
	m.mu.Unlock()
	now := m.cfg.Clock.Now()
	out := make([]PeerInfo, 0, len(known))
	for id, seen := range known {
		connected := m.connected(id)
		if connected {
			seen = now
		}
		out = append(out, PeerInfo{
			ID:        id,
			Addrs:     p2pAddrs(id, m.host.Peerstore().Addrs(id)),
			Connected: connected,
			LastSeen:  seen,
		})
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// note records p as known; seen also stamps it as seen now.
func (m *Mesh) note(p peer.ID, seen bool) {
	if p == m.self {
		return
	}
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.known[p]; !ok || seen {
		if !seen {
			now = time.Time{}
		}
		m.known[p] = now
	}
}

// seen stamps p as seen now if it is known.
func (m *Mesh) seen(p peer.ID) {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.known[p]; ok {
		m.known[p] = now
	}
}

// connected reports whether there is a live connection to p.
func (m *Mesh) connected(p peer.ID) bool {
	return m.host.Network().Connectedness(p) == network.Connected
}

// p2pAddrs renders addrs as full multiaddrs ending in /p2p/<id>.
func p2pAddrs(id peer.ID, addrs []multiaddr.Multiaddr) []string {
	out := make([]string, 0, len(addrs))
	suffix := "/p2p/" + id.String()
	for _, a := range addrs {
		if _, last := multiaddr.SplitLast(a); last != nil && last.Protocol().Code == multiaddr.P_P2P {
			out = append(out, a.String())
			continue
		}
		out = append(out, a.String()+suffix)
	}
	return out
}

// mustMultiaddrs parses addresses Config.validate has already checked.
func mustMultiaddrs(ss []string) []multiaddr.Multiaddr {
	out := make([]multiaddr.Multiaddr, 0, len(ss))
	for _, s := range ss {
		if a, err := multiaddr.NewMultiaddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}
