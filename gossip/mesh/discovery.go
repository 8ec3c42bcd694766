package mesh

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// loop is the node's one event goroutine: host events (connections,
// identified peers, address changes) and memberlist notifications.
func (m *Mesh) loop() {
	defer close(m.loopDone)
	for {
		select {
		case <-m.ctx.Done():
			return
		case e, ok := <-m.sub.Out():
			if !ok {
				return
			}
			m.handleHostEvent(e)
		case <-m.events.ready:
			for _, ev := range m.events.drain() {
				m.handleMemberEvent(ev)
			}
		}
	}
}

func (m *Mesh) handleHostEvent(e any) {
	proto := m.tr.packetProto
	switch e := e.(type) {
	case event.EvtPeerConnectednessChanged:
		m.seen(e.Peer)
		m.wake(e.Peer)
	case event.EvtPeerIdentificationCompleted:
		if slices.Contains(e.Protocols, proto) {
			m.maybeJoin(e.Peer)
		}
	case event.EvtPeerProtocolsUpdated:
		if slices.Contains(e.Added, proto) {
			m.maybeJoin(e.Peer)
		}
	case event.EvtLocalAddressesUpdated:
		m.spawn(m.refreshMeta)
	}
}

// joinConnected joins through the already connected peers that speak this
// mesh's membership protocol.
func (m *Mesh) joinConnected() {
	for _, p := range m.host.Network().Peers() {
		if protos, _ := m.host.Peerstore().SupportsProtocols(p, m.tr.packetProto); len(protos) > 0 {
			m.maybeJoin(p)
		}
	}
}

// maybeJoin joins memberlist through p, a connected peer that speaks this
// mesh's membership protocol, unless p is already a member: this is how
// membership spreads along every connection, static, mDNS or inbound.
func (m *Mesh) maybeJoin(p peer.ID) {
	if p == m.self || m.gater.banned(p) || m.isMember(p) {
		return
	}
	m.note(p, true)
	if !m.claim(m.joining, p) {
		return
	}
	ok := m.spawn(func() {
		defer m.release(m.joining, p)
		if _, err := m.ml.Join([]string{joinAddr(p)}); err != nil {
			m.log.Debug("join through peer", "peer", p, "err", err)
		}
	})
	if !ok {
		m.release(m.joining, p)
	}
}

// joinAddr is the memberlist join address of p: its name, then the
// placeholder address.
func joinAddr(p peer.ID) string {
	return p.String() + "/" + placeholder.IP.String() + ":1"
}

// connectAttempts bounds the dials connect makes to a discovered peer.
const connectAttempts = 3

// connect dials p in the background unless connected, banned or already
// being dialled, retrying a failed dial after a jittered backoff: two peers
// that discover each other at once dial each other at once, and one of the
// two attempts may fail.
func (m *Mesh) connect(ai peer.AddrInfo) {
	if ai.ID == m.self || m.gater.banned(ai.ID) || m.connected(ai.ID) || !m.claim(m.dialing, ai.ID) {
		return
	}
	ok := m.spawn(func() {
		defer m.release(m.dialing, ai.ID)
		for attempt := range connectAttempts {
			if attempt > 0 && !m.sleep(backoff(m.cfg.RedialMin, m.cfg.RedialMax, attempt-1), nil) {
				return
			}
			if m.connected(ai.ID) || m.gater.banned(ai.ID) {
				return
			}
			ctx, cancel := context.WithTimeout(m.ctx, m.cfg.DialTimeout)
			err := m.host.Connect(ctx, ai)
			cancel()
			if err == nil {
				return
			}
			m.log.Debug("dial", "peer", ai.ID, "attempt", attempt+1, "err", err)
		}
	})
	if !ok {
		m.release(m.dialing, ai.ID)
	}
}

// claim marks p in set, reporting false if it already was.
func (m *Mesh) claim(set map[peer.ID]bool, p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if set[p] {
		return false
	}
	set[p] = true
	return true
}

func (m *Mesh) release(set map[peer.ID]bool, p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(set, p)
}

// addStatic starts the dial loop of a static peer.
func (m *Mesh) addStatic(ai peer.AddrInfo) {
	if ai.ID == m.self {
		m.log.Warn("static peer is this node; ignored", "peer", ai.ID)
		return
	}
	wake := make(chan struct{}, 1)
	m.mu.Lock()
	m.static[ai.ID] = wake
	m.mu.Unlock()
	m.note(ai.ID, false)
	m.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
	m.spawn(func() { m.keepDialing(ai, wake) })
}

// keepDialing keeps a static peer connected: it dials while the peer is
// unreachable, backing off exponentially with jitter, and after a
// connection waits to be woken by a connectedness change.
func (m *Mesh) keepDialing(ai peer.AddrInfo, wake <-chan struct{}) {
	for attempt := 0; ; {
		if !m.connected(ai.ID) {
			ctx := network.WithForceDirectDial(m.ctx, "rumor static peer") // our backoff, not the swarm's
			ctx, cancel := context.WithTimeout(ctx, m.cfg.DialTimeout)
			err := m.host.Connect(ctx, ai)
			cancel()
			if err != nil {
				d := backoff(m.cfg.RedialMin, m.cfg.RedialMax, attempt)
				attempt++
				m.log.Debug("static peer unreachable", "peer", ai.ID, "retry_in", d, "err", err)
				if !m.sleep(d, wake) {
					return
				}
				continue
			}
		}
		attempt = 0
		select {
		case <-m.ctx.Done():
			return
		case <-wake:
		}
	}
}

// sleep waits for d, a wake-up (if wake is not nil) or Close, reporting
// false on Close.
func (m *Mesh) sleep(d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}

// wake nudges p's static dial loop, if it has one.
func (m *Mesh) wake(p peer.ID) {
	m.mu.Lock()
	ch := m.static[p]
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// backoff returns the delay before redial number attempt (from 0):
// min*2^attempt capped at max, with "equal jitter" (half fixed, half
// random) so that peers restarting together do not redial in lockstep.
func backoff(min, max time.Duration, attempt int) time.Duration {
	d := max
	if attempt < 32 && min<<attempt < max && min<<attempt > 0 {
		d = min << attempt
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// startMDNS advertises and browses "_rumor-<mesh>._udp" on the LAN. A LAN
// without multicast is not fatal: discovery falls back to static peers.
func (m *Mesh) startMDNS() {
	svc := mdns.NewMdnsService(m.host, "_rumor-"+m.cfg.Mesh+"._udp", mdnsNotifee{m})
	if err := svc.Start(); err != nil {
		m.log.Warn("mDNS discovery off", "err", err)
		return
	}
	m.mdns = svc
}

type mdnsNotifee struct{ m *Mesh }

// HandlePeerFound records and dials a peer found on the LAN.
func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	m := n.m
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed || ai.ID == m.self {
		return
	}
	m.log.Debug("mDNS found peer", "peer", ai.ID)
	m.note(ai.ID, false)
	m.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.AddressTTL)
	m.connect(ai)
}
