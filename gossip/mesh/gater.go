package mesh

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/rumor-sync/rumor/internal/clock"
)

// gater is the host's connection gater: it refuses banned peers in both
// directions until their ban expires, and allows everything else. Its lock
// is a leaf: nothing else is locked or called while it is held.
type gater struct {
	clock clock.Clock

	mu   sync.Mutex
	bans map[peer.ID]time.Time // peer -> ban expiry
}

func newGater(c clock.Clock) *gater {
	return &gater{clock: c, bans: make(map[peer.ID]time.Time)}
}

// ban refuses p until the clock reaches until; a zero until lifts the ban.
func (g *gater) ban(p peer.ID, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.IsZero() {
		delete(g.bans, p)
		return
	}
	g.bans[p] = until
}

// banned reports whether p is banned now, forgetting expired bans.
func (g *gater) banned(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.bans[p]
	if !ok {
		return false
	}
	if !g.clock.Now().Before(until) {
		delete(g.bans, p)
		return false
	}
	return true
}

// InterceptPeerDial refuses to dial banned peers.
func (g *gater) InterceptPeerDial(p peer.ID) bool { return !g.banned(p) }

// InterceptAddrDial refuses to dial banned peers.
func (g *gater) InterceptAddrDial(p peer.ID, _ multiaddr.Multiaddr) bool { return !g.banned(p) }

// InterceptAccept allows every inbound connection: the peer is not known yet.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured refuses connections, in either direction, with banned
// peers once their identity is authenticated.
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.banned(p)
}

// InterceptUpgraded allows every upgraded connection.
func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

var _ connmgr.ConnectionGater = (*gater)(nil)
