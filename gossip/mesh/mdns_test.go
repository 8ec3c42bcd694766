package mesh

import (
	"fmt"
	"testing"
	"time"
)

// TestMDNSDiscovery: two nodes with no static peers find each other on the
// LAN. A mesh name unique to this run keeps other test runs out.
func TestMDNSDiscovery(t *testing.T) {
	mesh := fmt.Sprintf("mdns-%d", time.Now().UnixNano()%1_000_000_000)
	cfg := func() Config {
		c := testConfig(t)
		c.Mesh = mesh
		c.MDNS = true
		return c
	}
	a := start(t, cfg())
	if a.mdns == nil {
		t.Skip("mDNS could not start here (no multicast interface)")
	}
	b := start(t, cfg())
	waitFor(t, 15*time.Second, func() bool { return isMember(a, b) && isMember(b, a) },
		"mDNS peers become members")
}
