package mesh

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/internal/clock"
)

func TestBanClosesAndRefuses(t *testing.T) {
	clk := clock.NewManual(time.Now())
	acfg := testConfig(t)
	acfg.Clock = clk
	a := start(t, acfg)
	b := start(t, testConfig(t, addr(a))) // b keeps redialling a
	waitFor(t, 10*time.Second, func() bool { return connected(a, b) && isMember(a, b) }, "b joins a")

	a.Ban(b.ID(), time.Hour)
	var admitted atomic.Int32 // connections to b that a's network accepted after the ban
	a.Host().Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == b.ID() {
			admitted.Add(1)
		}
	}})
	waitFor(t, 5*time.Second, func() bool { return !connected(a, b) && !connected(b, a) }, "ban closes connections")
	if isMember(a, b) {
		t.Fatal("banned peer listed in Members")
	}
	dial := func(from, to *Mesh) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctx = forceDial(ctx)
		return from.Host().Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Host().Addrs()})
	}
	// An inbound dial may look successful to the dialer for a moment (its
	// handshake ends before a's gater refuses); a must never admit it.
	_ = dial(b, a)
	waitFor(t, 5*time.Second, func() bool { return !connected(b, a) }, "refused inbound connection closes")
	if err := dial(a, b); err == nil {
		t.Fatal("could dial a banned peer")
	}
	if n := admitted.Load(); n != 0 || connected(a, b) {
		t.Fatalf("a admitted %d connections from the banned peer", n)
	}

	clk.Advance(time.Hour) // the ban expires; b's redial loop reconnects
	waitFor(t, 10*time.Second, func() bool { return connected(a, b) && isMember(a, b) }, "b reconnects after the ban")
}

// forceDial skips the swarm's dial backoff, so a refused dial is
// refused by the gater, not by a cached failure.
func forceDial(ctx context.Context) context.Context {
	return network.WithForceDirectDial(ctx, "test")
}
