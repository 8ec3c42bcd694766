package mesh

import (
	"strings"
	"testing"
	"time"
)

// TestWebSocketTransport joins two private-mesh nodes over libp2p's
// WebSocket transport: same identity, same secret, same membership.
func TestWebSocketTransport(t *testing.T) {
	secret, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	ws := func(peers ...string) Config {
		cfg := testConfig(t, peers...)
		cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0/ws"}
		cfg.Secret = secret
		return cfg
	}
	a := start(t, ws())
	if !strings.Contains(addr(a), "/ws/") {
		t.Fatalf("a listens on %s, not WebSocket", addr(a))
	}
	b := start(t, ws(addr(a)))
	waitFor(t, 15*time.Second, func() bool { return isMember(a, b) && isMember(b, a) }, "members over WebSocket")
	for _, c := range a.Host().Network().ConnsToPeer(b.ID()) {
		if !strings.Contains(c.RemoteMultiaddr().String(), "/ws") {
			t.Fatalf("connection over %s, not WebSocket", c.RemoteMultiaddr())
		}
	}
}
