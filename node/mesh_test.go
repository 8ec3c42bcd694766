package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
)

// testNode is an in-process node with networking on loopback.
type testNode struct {
	*Node
	dir    string
	cancel context.CancelFunc
	done   chan error
	url    string
}

func logger() *slog.Logger {
	if os.Getenv("RUMOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startTestNode starts a node on dir (a new temp dir if empty) with the
// given static peers.
func startTestNode(t *testing.T, dir string, mutate func(*Config), peers ...string) *testNode {
	t.Helper()
	cfg := loopbackConfig(t, dir, peers)
	if mutate != nil {
		mutate(&cfg)
	}
	return runNode(t, cfg)
}

// loopbackConfig is a node on dir (a new temp dir if empty) listening on
// loopback only, mDNS off, syncing every 200 ms.
func loopbackConfig(t testing.TB, dir string, peers []string) Config {
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr = dir, "127.0.0.1:0"
	cfg.Listen, cfg.Peers, cfg.MDNS = []string{"/ip4/127.0.0.1/tcp/0"}, peers, false
	cfg.SyncInterval = 200 * time.Millisecond
	cfg.Logger = logger()
	return cfg
}

func (tn *testNode) stop() {
	if tn.cancel != nil {
		tn.cancel()
		<-tn.done
		tn.cancel = nil
	}
}

// addr is the node's first full libp2p address.
func (tn *testNode) addr(t *testing.T) string {
	t.Helper()
	addrs := tn.Mesh().Addrs()
	if len(addrs) == 0 {
		t.Fatal("node has no addresses")
	}
	return addrs[0]
}

func (tn *testNode) emit(t *testing.T, n int, typ string) {
	t.Helper()
	in := make([]event.Input, n)
	for i := range in {
		in[i] = event.Input{Type: typ, Schema: 1, Payload: json.RawMessage(fmt.Sprintf(`{"value":%d}`, i))}
	}
	if _, err := tn.Store().Ingest(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 20 ms until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// converged reports whether all nodes hold the same events, total in all.
func converged(nodes []*testNode, total uint64) bool {
	first := nodes[0].Store().Summary()
	if first.Events != total {
		return false
	}
	for _, n := range nodes[1:] {
		if s := n.Store().Summary(); s.Digest != first.Digest {
			return false
		}
	}
	return true
}

func TestTwoNodesConverge(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	a.emit(t, 100, "a")
	b.emit(t, 50, "b")
	waitFor(t, 15*time.Second, "two nodes to converge", func() bool { return converged([]*testNode{a, b}, 150) })
	// Push: a new event reaches the other node quickly.
	a.emit(t, 1, "late")
	waitFor(t, 10*time.Second, "push of a new event", func() bool { return converged([]*testNode{a, b}, 151) })
}

func TestChainBecomesMeshAndSurvivesMiddleDeath(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	c := startTestNode(t, "", nil, b.addr(t))
	waitFor(t, 20*time.Second, "a and c to become members of each other", func() bool {
		return hasMember(a, c.ID()) && hasMember(c, a.ID())
	})
	b.stop()
	a.emit(t, 20, "after")
	c.emit(t, 10, "after")
	waitFor(t, 20*time.Second, "a and c to converge without b", func() bool { return converged([]*testNode{a, c}, 30) })
}

func hasMember(n *testNode, id string) bool {
	for _, m := range n.Mesh().Members() {
		if m.ID.String() == id {
			return true
		}
	}
	return false
}

func TestTenNodesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("10-node mesh in -short mode")
	}
	first := startTestNode(t, "", nil)
	nodes := []*testNode{first}
	for i := 1; i < 10; i++ {
		nodes = append(nodes, startTestNode(t, "", nil, first.addr(t)))
	}
	for i, n := range nodes {
		n.emit(t, 10+i, "ten")
	}
	total := uint64(0)
	for i := range nodes {
		total += uint64(10 + i)
	}
	waitFor(t, 30*time.Second, "ten nodes to converge", func() bool { return converged(nodes, total) })
}
