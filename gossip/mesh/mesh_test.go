package mesh

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestChainBecomesFullMesh: a←b←c (c knows only b, b only a) becomes a full
// mesh, and a and c keep each other when b leaves.
func TestChainBecomesFullMesh(t *testing.T) {
	a := start(t, testConfig(t))
	b := start(t, testConfig(t, addr(a)))
	c := start(t, testConfig(t, addr(b)))
	all := []*Mesh{a, b, c}
	waitFor(t, 10*time.Second, func() bool {
		return hasMembers(a, b, c) && hasMembers(b, a, c) && hasMembers(c, a, b)
	}, "full membership: a=%v b=%v c=%v", memberIDs(a), memberIDs(b), memberIDs(c))
	waitFor(t, 10*time.Second, func() bool {
		for _, x := range all {
			for _, y := range all {
				if x != y && !connected(x, y) {
					return false
				}
			}
		}
		return true
	}, "full mesh of connections")

	if err := b.Close(); err != nil {
		t.Fatalf("close b: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool { return hasMembers(a, c) && hasMembers(c, a) },
		"a and c drop b: a=%v c=%v", memberIDs(a), memberIDs(c))
	if !connected(a, c) || !connected(c, a) {
		t.Fatal("a and c disconnected when b left")
	}
}

// TestTenNodesJoinThroughOne: every node knows only node 0, and all learn of
// all.
func TestTenNodesJoinThroughOne(t *testing.T) {
	const n = 10
	nodes := []*Mesh{start(t, testConfig(t))}
	for range n - 1 {
		nodes = append(nodes, start(t, testConfig(t, addr(nodes[0]))))
	}
	closeAllAtEnd(t, nodes)
	// Joins spread by gossip, which a loaded machine (the race detector,
	// other packages' tests) can drop; memberlist's push-pull, every 30 s,
	// then completes the view. Allow for one round of it.
	waitFor(t, 60*time.Second, func() bool {
		for _, m := range nodes {
			if len(m.Members()) != n-1 {
				return false
			}
		}
		return true
	}, "every node sees %d members", n-1)
	for _, m := range nodes {
		for _, o := range nodes {
			if m != o && !isMember(m, o) {
				t.Fatalf("%s does not list %s", m.ID(), o.ID())
			}
		}
	}
}

func TestMembersCarryRoleAndAddrs(t *testing.T) {
	a := start(t, testConfig(t))
	cfg := testConfig(t, addr(a))
	cfg.Role = RoleSink
	s := start(t, cfg)
	waitFor(t, 10*time.Second, func() bool { return isMember(a, s) }, "sink joins")
	mem := a.Members()[0]
	if mem.ID != s.ID() || mem.Role != RoleSink {
		t.Fatalf("member = %+v, want %s as sink", mem, s.ID())
	}
	if len(mem.Addrs) == 0 || !strings.HasSuffix(mem.Addrs[0], "/p2p/"+s.ID().String()) {
		t.Fatalf("member addrs %v, want full multiaddrs of %s", mem.Addrs, s.ID())
	}
	for _, ad := range a.Addrs() {
		if !strings.HasPrefix(ad, "/ip4/127.0.0.1/tcp/") || !strings.HasSuffix(ad, "/p2p/"+a.ID().String()) {
			t.Fatalf("Addrs() = %v", a.Addrs())
		}
	}
}

func TestSubscribeSeesJoinAndLeave(t *testing.T) {
	a := start(t, testConfig(t))
	var (
		mu     sync.Mutex
		events []MemberEvent
	)
	a.Subscribe(func(ev MemberEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	})
	saw := func(k EventKind, id peer.ID) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range events {
				if ev.Kind == k && ev.Member.ID == id {
					return true
				}
			}
			return false
		}
	}
	b := start(t, testConfig(t, addr(a)))
	waitFor(t, 10*time.Second, saw(Joined, b.ID()), "joined event for b")
	_ = b.Close()
	waitFor(t, 10*time.Second, saw(Left, b.ID()), "left event for b")
}

func TestPeersListsStaticAndMembers(t *testing.T) {
	a := start(t, testConfig(t))
	b := start(t, testConfig(t, addr(a)))
	c := start(t, testConfig(t, addr(a)))
	waitFor(t, 10*time.Second, func() bool {
		ps := b.Peers()
		return len(ps) == 2 && ps[0].Connected && ps[1].Connected
	}, "b knows and is connected to a and c: %+v", b.Peers())
	for _, p := range b.Peers() {
		if p.LastSeen.IsZero() || len(p.Addrs) == 0 || (p.ID != a.ID() && p.ID != c.ID()) {
			t.Fatalf("peer info %+v", p)
		}
	}
}

func TestProtocolContainsMesh(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mesh = "factory-7"
	m := start(t, cfg)
	if got := m.Protocol("sync/1"); got != "/rumor/factory-7/sync/1" {
		t.Fatalf("Protocol = %q", got)
	}
	var found int
	for _, p := range m.Host().Mux().Protocols() {
		if strings.HasPrefix(string(p), "/rumor/") {
			found++
			if !strings.HasPrefix(string(p), "/rumor/factory-7/memberlist/") {
				t.Errorf("protocol %q is not under the mesh name", p)
			}
		}
	}
	if found != 2 {
		t.Fatalf("%d rumor protocols registered, want the 2 memberlist ones", found)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	m := start(t, testConfig(t))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
