package mesh

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOutsidersNeverJoin starts a two-node mesh, then outsiders that
// know its address but differ in secret or mesh name, then a control node
// that matches. Once the control node has joined everywhere, the outsiders
// have had the same chances, and must not be members anywhere.
func TestOutsidersNeverJoin(t *testing.T) {
	secret, _ := GenerateSecret()
	other, _ := GenerateSecret()
	tests := []struct {
		name       string
		meshSecret []byte
		outsider   func(*Config)
		canConnect bool // the libp2p handshake itself succeeds
	}{
		{"wrong secret", secret, func(c *Config) { c.Secret = other }, false},
		{"no secret in private mesh", secret, func(c *Config) { c.Secret = nil }, false},
		{"secret in open mesh", nil, func(c *Config) { c.Secret = secret }, false},
		{"other mesh name, same secret", secret, func(c *Config) { c.Mesh = "other" }, true},
		{"other mesh name, open", nil, func(c *Config) { c.Mesh = "other" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := func(peers ...string) Config {
				c := testConfig(t, peers...)
				c.Secret = tt.meshSecret
				return c
			}
			a := start(t, cfg())
			b := start(t, cfg(addr(a)))
			oc := cfg(addr(a), addr(b))
			tt.outsider(&oc)
			out := start(t, oc)

			// The outsider dials a directly too, to see the handshake fail. A
			// PSK mismatch is not reported: the handshake just never
			// completes, so the dial fails by timing out.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err := out.Host().Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Host().Addrs()})
			if tt.canConnect != (err == nil) {
				t.Fatalf("outsider connect: err=%v, want success=%v", err, tt.canConnect)
			}

			ctrl := start(t, cfg(addr(a)))
			waitFor(t, 10*time.Second, func() bool {
				return hasMembers(a, b, ctrl) && hasMembers(b, a, ctrl) && hasMembers(ctrl, a, b)
			}, "control node joins: a=%v b=%v ctrl=%v", memberIDs(a), memberIDs(b), memberIDs(ctrl))
			for _, m := range []*Mesh{a, b, ctrl} {
				if isMember(m, out) {
					t.Fatalf("outsider is a member of %s", m.ID())
				}
			}
			if got := out.Members(); len(got) != 0 {
				t.Fatalf("outsider sees members %v", got)
			}
			if !tt.canConnect && (connected(a, out) || connected(b, out)) {
				t.Fatal("outsider is connected")
			}
		})
	}
}
