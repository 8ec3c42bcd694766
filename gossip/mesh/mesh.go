package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
)

// Protocol names under /rumor/<mesh>/ used by the membership transport.
const (
	packetProtocol = "memberlist/packet/1"
	streamProtocol = "memberlist/stream/1"
)

// leaveTimeout bounds how long Close waits for the leave broadcast.
const leaveTimeout = 2 * time.Second

// Mesh is a running mesh node: a libp2p host, its memberlist membership and
// its discovery (static peers, mDNS, members learnt transitively). It is
// safe for concurrent use. Create it with New and release it with Close.
//
// Locking: mu guards the fields below it and is never held while calling
// into memberlist or libp2p, since memberlist's callbacks take it under
// memberlist's own lock (order: memberlist, then mu, then the gater's lock,
// which is a leaf).
type Mesh struct {
	cfg    Config
	log    *slog.Logger
	self   peer.ID
	host   host.Host
	gater  *gater
	tr     *transport
	ml     *memberlist.Memberlist
	sub    event.Subscription
	mdns   io.Closer
	events *queue[memberEvent]

	ctx      context.Context
	cancel   context.CancelFunc
	loopDone chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	members map[peer.ID]Member        // live members but self, per memberlist's callbacks
	known   map[peer.ID]time.Time     // every peer heard of -> last seen (zero: never)
	static  map[peer.ID]chan struct{} // static peer -> wakes its dial loop
	joining map[peer.ID]bool
	dialing map[peer.ID]bool
	subs    []*subscriber
	meta    []byte // last advertised node meta
}

// New starts a mesh node: it builds the host, starts membership over it,
// dials the static peers and, if configured, starts mDNS. ctx is only
// checked on entry; the node runs until Close.
func New(ctx context.Context, cfg Config) (*Mesh, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	statics, err := peer.AddrInfosFromP2pAddrs(mustMultiaddrs(cfg.Peers)...)
	if err != nil {
		return nil, fmt.Errorf("%w: Peers: %w", ErrInvalidConfig, err)
	}
	g := newGater(cfg.Clock)
	h, err := newHost(&cfg, g)
	if err != nil {
		return nil, err
	}
	m := &Mesh{
		cfg:      cfg,
		log:      cfg.Logger.With("mesh", cfg.Mesh, "self", h.ID()),
		self:     h.ID(),
		host:     h,
		gater:    g,
		events:   newQueue[memberEvent](),
		loopDone: make(chan struct{}),
		members:  make(map[peer.ID]Member),
		known:    make(map[peer.ID]time.Time),
		static:   make(map[peer.ID]chan struct{}),
		joining:  make(map[peer.ID]bool),
		dialing:  make(map[peer.ID]bool),
	}
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := m.start(); err != nil {
		m.cancel()
		_ = h.Close()
		return nil, err
	}
	go m.loop()
	m.joinConnected()
	for _, ai := range statics {
		m.addStatic(ai)
	}
	if cfg.MDNS {
		m.startMDNS()
	}
	m.log.Info("mesh started", "addrs", m.Addrs(), "role", cfg.Role)
	return m, nil
}

// start subscribes to host events and starts memberlist on its transport.
func (m *Mesh) start() error {
	sub, err := m.host.EventBus().Subscribe([]any{
		new(event.EvtPeerConnectednessChanged),
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtPeerProtocolsUpdated),
		new(event.EvtLocalAddressesUpdated),
	}, eventbus.BufSize(256), eventbus.Name("rumor-mesh"))
	if err != nil {
		return fmt.Errorf("mesh: subscribe to host events: %w", err)
	}
	m.sub = sub
	m.tr = newTransport(m.host, m.Protocol(packetProtocol), m.Protocol(streamProtocol),
		2*m.cfg.ProbeInterval, m.log.With("component", "transport"))
	mc, err := m.memberlistConfig()
	if err == nil {
		m.ml, err = memberlist.Create(mc)
	}
	if err != nil {
		_ = m.tr.Shutdown()
		_ = sub.Close()
		return fmt.Errorf("mesh: memberlist: %w", err)
	}
	return nil
}

// Host returns the libp2p host, for other protocols to use. Do not close
// it: Close does.
func (m *Mesh) Host() host.Host { return m.host }

// ID returns this node's peer ID, the device ID.
func (m *Mesh) ID() peer.ID { return m.self }

// Addrs returns the addresses this node can be dialled on, as full
// multiaddrs ending in /p2p/<id>.
func (m *Mesh) Addrs() []string {
	return p2pAddrs(m.self, m.host.Addrs())
}

// Protocol returns the protocol ID "/rumor/<mesh>/<name>", so protocols of
// different meshes never meet.
func (m *Mesh) Protocol(name string) protocol.ID {
	return protocol.ID("/rumor/" + m.cfg.Mesh + "/" + name)
}

// Ban makes the connection gater refuse p, inbound and outbound, for d from
// now (by Config.Clock), and closes every connection to p. A banned peer is
// left out of Members. A d <= 0 lifts a ban. Banning is local: other members
// still see p.
func (m *Mesh) Ban(p peer.ID, d time.Duration) {
	if p == m.self {
		return
	}
	if d <= 0 {
		m.gater.ban(p, time.Time{})
		m.log.Info("peer unbanned", "peer", p)
		m.wake(p)
		return
	}
	m.gater.ban(p, m.cfg.Clock.Now().Add(d))
	if err := m.host.Network().ClosePeer(p); err != nil {
		m.log.Debug("ban: close connections", "peer", p, "err", err)
	}
	m.log.Info("peer banned", "peer", p, "for", d)
}

// Close leaves the mesh gracefully (members drop this node at once), then
// stops membership, discovery and the host, and waits for the node's
// goroutines. Subscribers get no events after Close returns. It is
// idempotent.
func (m *Mesh) Close() error { return m.shutdown(true) }

// shutdown stops the node; without leave, the others must detect its
// failure, as if it had been killed.
func (m *Mesh) shutdown(leave bool) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()

	var errs []error
	if m.mdns != nil {
		errs = append(errs, m.mdns.Close())
	}
	if leave {
		if err := m.ml.Leave(leaveTimeout); err != nil {
			m.log.Info("leave not confirmed; members will detect the departure", "err", err)
		}
	}
	errs = append(errs, m.ml.Shutdown())
	m.cancel()
	<-m.loopDone
	errs = append(errs, m.sub.Close(), m.host.Close())
	m.wg.Wait()
	m.log.Info("mesh closed")
	return errors.Join(errs...)
}

// spawn runs f in a goroutine Close waits for, unless the node is closed.
func (m *Mesh) spawn(f func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}
