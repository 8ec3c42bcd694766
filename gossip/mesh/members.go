package mesh

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/memberlist"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

// protectTag marks member connections in the connection manager so it
// never trims them.
const protectTag = "rumor-member"

// EventKind says what happened to a member.
type EventKind int

// Member event kinds.
const (
	// Joined: the node became a live member.
	Joined EventKind = iota + 1
	// Left: the member left gracefully or was declared dead.
	Left
	// Updated: the member's role or addresses changed.
	Updated
)

// String returns "joined", "left" or "updated".
func (k EventKind) String() string {
	switch k {
	case Joined:
		return "joined"
	case Left:
		return "left"
	case Updated:
		return "updated"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Member is a live member of the mesh as memberlist sees it.
type Member struct {
	// ID is the member's peer ID, its device ID.
	ID peer.ID
	// Role is what the member advertises (RoleDevice, RoleSink, ...).
	Role string
	// Addrs are the member's advertised addresses, as full multiaddrs
	// ending in /p2p/<id>.
	Addrs []string
}

// MemberEvent tells a subscriber that a member joined, left or changed.
type MemberEvent struct {
	// Kind says what happened.
	Kind EventKind
	// Member is the member as of the event (for Left, as last known).
	Member Member
}

// memberEvent is a memberlist notification on its way to the loop.
type memberEvent struct {
	kind EventKind
	id   peer.ID
	meta nodeMeta
}

// Members returns the live members (alive or suspected, not dead or left),
// excluding this node and banned peers, sorted by ID.
func (m *Mesh) Members() []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.members))
	for id, mem := range m.members {
		if !m.gater.banned(id) {
			mem.Addrs = slices.Clone(mem.Addrs)
			out = append(out, mem)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// isMember reports whether p is a live member.
func (m *Mesh) isMember(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.members[p]
	return ok
}

// memberChanged runs inside memberlist's callbacks, under its lock: it
// updates the member table and queues the event for the loop. (The table
// is ours because memberlist.Members hands out nodes it keeps mutating.)
func (m *Mesh) memberChanged(kind EventKind, n *memberlist.Node) {
	id, meta, err := parseNode(n)
	if err != nil {
		m.log.Warn("member with bad metadata", "node", n.Name, "err", err)
		return
	}
	if id == m.self {
		return
	}
	m.mu.Lock()
	if kind == Left {
		delete(m.members, id)
	} else {
		m.members[id] = Member{ID: id, Role: meta.Role, Addrs: p2pAddrs(id, meta.Addrs)}
	}
	m.mu.Unlock()
	m.events.push(memberEvent{kind: kind, id: id, meta: meta})
}

// Subscribe calls fn with every member event from now on, in order, on a
// goroutine of its own, so a slow fn delays only its own events (which
// queue without bound). It does not replay: call Members after Subscribe
// for the current state. Events reflect memberlist's view; bans aside. fn
// is not called after Close returns, and Close waits for a running fn.
func (m *Mesh) Subscribe(fn func(ev MemberEvent)) {
	s := &subscriber{fn: fn, q: newQueue[MemberEvent]()}
	m.mu.Lock()
	m.subs = append(m.subs, s)
	m.mu.Unlock()
	m.spawn(func() { s.run(m.ctx) })
}

type subscriber struct {
	fn func(MemberEvent)
	q  *queue[MemberEvent]
}

func (s *subscriber) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.q.ready:
			for _, ev := range s.q.drain() {
				if ctx.Err() != nil {
					return
				}
				s.fn(ev)
			}
		}
	}
}

// handleMemberEvent runs on the loop: it learns the member's addresses,
// connects to it, and tells subscribers.
func (m *Mesh) handleMemberEvent(ev memberEvent) {
	id, meta := ev.id, ev.meta
	m.log.Debug("member "+ev.kind.String(), "peer", id, "role", meta.Role)
	cm := m.host.ConnManager()
	switch ev.kind {
	case Joined, Updated:
		m.note(id, true)
		m.host.Peerstore().AddAddrs(id, meta.Addrs, peerstore.AddressTTL)
		cm.Protect(id, protectTag)
		m.connect(peer.AddrInfo{ID: id, Addrs: meta.Addrs})
	case Left:
		cm.Unprotect(id, protectTag)
	}
	out := MemberEvent{Kind: ev.kind, Member: Member{ID: id, Role: meta.Role, Addrs: p2pAddrs(id, meta.Addrs)}}
	m.mu.Lock()
	subs := slices.Clone(m.subs)
	m.mu.Unlock()
	for _, s := range subs {
		s.q.push(out)
	}
}

// parseNode returns a memberlist node's peer ID and metadata.
func parseNode(n *memberlist.Node) (peer.ID, nodeMeta, error) {
	id, err := peer.Decode(n.Name)
	if err != nil {
		return "", nodeMeta{}, fmt.Errorf("mesh: node name %q is not a peer ID: %w", n.Name, err)
	}
	meta, err := decodeMeta(n.Meta)
	return id, meta, err
}

// localMeta encodes this node's role and current addresses.
func (m *Mesh) localMeta(limit int) []byte {
	b := nodeMeta{Role: m.cfg.Role, Addrs: m.host.Addrs()}.encode(limit)
	m.mu.Lock()
	m.meta = b
	m.mu.Unlock()
	return b
}

// refreshMeta re-advertises this node if its addresses changed.
func (m *Mesh) refreshMeta() {
	b := nodeMeta{Role: m.cfg.Role, Addrs: m.host.Addrs()}.encode(memberlist.MetaMaxSize)
	m.mu.Lock()
	same := bytes.Equal(b, m.meta)
	m.mu.Unlock()
	if same {
		return
	}
	if err := m.ml.UpdateNode(leaveTimeout); err != nil {
		m.log.Debug("advertise new addresses", "err", err)
	}
}

// memberlistConfig is memberlist's LAN profile with our transport,
// delegates, label, key and timings.
func (m *Mesh) memberlistConfig() (*memberlist.Config, error) {
	c := memberlist.DefaultLANConfig()
	c.Name = m.self.String()
	c.Transport = m.tr
	c.BindPort, c.AdvertisePort = placeholder.Port, placeholder.Port
	c.AdvertiseAddr = placeholder.IP.String()
	d := delegate{m}
	c.Delegate, c.Events, c.Alive, c.Merge = d, d, d, d
	c.Label = "rumor/" + m.cfg.Mesh
	c.Logger = newMemberlistLogger(m.log)
	c.ProbeInterval = m.cfg.ProbeInterval
	c.ProbeTimeout = m.cfg.ProbeTimeout
	c.SuspicionMult = m.cfg.SuspicionMult
	c.SuspicionMaxTimeoutMult = m.cfg.SuspicionMaxTimeoutMult
	c.GossipInterval = m.cfg.GossipInterval
	c.PushPullInterval = m.cfg.PushPullInterval
	if m.cfg.Secret != nil {
		key, err := memberlistKey(m.cfg.Secret)
		if err != nil {
			return nil, err
		}
		c.SecretKey = key
	}
	return c, nil
}

// delegate receives memberlist's callbacks. They run under memberlist's
// locks, so they only compute, take Mesh.mu briefly, or enqueue.
type delegate struct{ m *Mesh }

// NodeMeta returns this node's metadata.
func (d delegate) NodeMeta(limit int) []byte { return d.m.localMeta(limit) }

// NotifyMsg ignores user messages: the mesh sends none.
func (d delegate) NotifyMsg([]byte) {}

// GetBroadcasts returns nothing: the mesh broadcasts nothing of its own.
func (d delegate) GetBroadcasts(int, int) [][]byte { return nil }

// LocalState returns nothing: there is no state beyond membership.
func (d delegate) LocalState(bool) []byte { return nil }

// MergeRemoteState ignores remote state.
func (d delegate) MergeRemoteState([]byte, bool) {}

// NotifyJoin records a join.
func (d delegate) NotifyJoin(n *memberlist.Node) { d.m.memberChanged(Joined, n) }

// NotifyLeave records a leave or death.
func (d delegate) NotifyLeave(n *memberlist.Node) { d.m.memberChanged(Left, n) }

// NotifyUpdate records new metadata.
func (d delegate) NotifyUpdate(n *memberlist.Node) { d.m.memberChanged(Updated, n) }

// NotifyAlive refuses nodes whose name is not a peer ID or whose
// metadata does not decode.
func (d delegate) NotifyAlive(n *memberlist.Node) error {
	_, _, err := parseNode(n)
	return err
}

// NotifyMerge refuses a push/pull carrying any malformed node.
func (d delegate) NotifyMerge(nodes []*memberlist.Node) error {
	for _, n := range nodes {
		if _, _, err := parseNode(n); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
	_ memberlist.AliveDelegate = delegate{}
	_ memberlist.MergeDelegate = delegate{}
)
