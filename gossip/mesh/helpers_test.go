package mesh

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testLogger discards logs unless RUMOR_TEST_LOG is set (to a slog level
// such as "debug"), so test output stays readable.
func testLogger() *slog.Logger {
	lvl := os.Getenv("RUMOR_TEST_LOG")
	if lvl == "" {
		return slog.New(slog.DiscardHandler)
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(lvl))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testConfig is a loopback node with mDNS off and quick redials.
func testConfig(t testing.TB, peers ...string) Config {
	cfg := DefaultConfig()
	cfg.Key = newKey(t)
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Peers = peers
	cfg.MDNS = false
	cfg.Logger = testLogger()
	cfg.RedialMin = 50 * time.Millisecond
	cfg.RedialMax = 500 * time.Millisecond
	return cfg
}

// start runs a node that is closed when the test ends.
func start(t testing.TB, cfg Config) *Mesh {
	t.Helper()
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// waitFor polls cond every 20 ms until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, fmt.Sprintf(format, args...))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closeAllAtEnd closes nodes concurrently when the test ends (each Close
// waits for its leave broadcast; one after another adds up).
func closeAllAtEnd(t testing.TB, nodes []*Mesh) {
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, m := range nodes {
			wg.Go(func() { _ = m.Close() })
		}
		wg.Wait()
	})
}

func memberIDs(m *Mesh) []peer.ID {
	var ids []peer.ID
	for _, mem := range m.Members() {
		ids = append(ids, mem.ID)
	}
	return ids
}

// hasMembers reports whether m's members are exactly want.
func hasMembers(m *Mesh, want ...*Mesh) bool {
	got := memberIDs(m)
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(got, w.ID()) {
			return false
		}
	}
	return true
}

func isMember(m, other *Mesh) bool { return slices.Contains(memberIDs(m), other.ID()) }

func connected(a, b *Mesh) bool { return a.connected(b.ID()) }

// addr is a node's first dialable address.
func addr(m *Mesh) string { return m.Addrs()[0] }
