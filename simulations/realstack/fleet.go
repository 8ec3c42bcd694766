// Package realstack runs a fleet of full rumor nodes in one process: real
// libp2p hosts on loopback, gossipsub, memberlist, badger stores in
// temporary directories, each node started with node.New and Run, as
// `rumor node` does. It partitions them (mesh.Ban both ways), crashes and
// restarts them on their data, and checks that they converge with nothing
// lost. Replay drives it through the same scenario and workload the
// simulator ran, in scaled wall time, so that the two can be compared:
// the harness proves the wiring the simulator abstracts away.
package realstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/node"
)

// Config configures a Fleet.
type Config struct {
	// Nodes is the fleet size. Required.
	Nodes int
	// Dir holds the nodes' data directories (node-0, node-1, …). Required;
	// tests pass t.TempDir().
	Dir string
	// SyncInterval is every node's mean anti-entropy interval. Default
	// 200ms.
	SyncInterval time.Duration
	// Logger receives the nodes' logs. Default: discarded.
	Logger *slog.Logger
}

// Fleet is a set of running nodes. Its methods are not safe for
// concurrent use.
type Fleet struct {
	cfg   Config
	nodes []*Node
}

// Node is one node of the fleet.
type Node struct {
	*node.Node
	Index  int
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// ErrNotConverged is returned by WaitConverged when its deadline passes.
var ErrNotConverged = errors.New("realstack: fleet did not converge")

// Start starts cfg.Nodes nodes; each lists the first node and its
// predecessor as static peers, and membership spreads the rest.
func Start(cfg Config) (*Fleet, error) {
	if cfg.Nodes < 1 || cfg.Dir == "" {
		return nil, errors.New("realstack: Nodes and Dir are required")
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{cfg: cfg, nodes: make([]*Node, cfg.Nodes)}
	for i := range cfg.Nodes {
		if err := f.start(i); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// start runs node i on its data directory.
func (f *Fleet) start(i int) error {
	dir := filepath.Join(f.cfg.Dir, "node-"+strconv.Itoa(i))
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr = dir, "127.0.0.1:0"
	cfg.Listen, cfg.MDNS = []string{"/ip4/127.0.0.1/tcp/0"}, false
	cfg.Mesh = "realstack"
	cfg.SyncInterval = f.cfg.SyncInterval
	cfg.Logger = f.cfg.Logger.With("node", i)
	for _, j := range []int{0, i - 1, i + 1} {
		if j != i && j >= 0 && j < len(f.nodes) && f.nodes[j] != nil {
			cfg.Peers = append(cfg.Peers, f.nodes[j].Mesh().Addrs()[0])
		}
	}
	n, err := node.New(cfg)
	if err != nil {
		return fmt.Errorf("realstack: node %d: %w", i, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nd := &Node{Node: n, Index: i, dir: dir, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() { nd.done <- n.Run(ctx, func(a net.Addr) { ready <- a }) }()
	select {
	case <-ready:
	case err := <-nd.done:
		cancel()
		return fmt.Errorf("realstack: node %d did not start: %w", i, err)
	}
	f.nodes[i] = nd
	return nil
}

// Len is the fleet size.
func (f *Fleet) Len() int { return len(f.nodes) }

// Node returns node i, or nil while it is down.
func (f *Fleet) Node(i int) *Node { return f.nodes[i] }

// Emit makes node i ingest one durable batch of n events.
func (f *Fleet) Emit(i, n int) error {
	nd := f.nodes[i]
	if nd == nil {
		return fmt.Errorf("realstack: node %d is down", i)
	}
	in := make([]event.Input, n)
	for k := range in {
		in[k] = event.Input{Type: "reading", Schema: 1, Payload: json.RawMessage(`{"v":` + strconv.Itoa(k) + `}`)}
	}
	_, err := nd.Store().Ingest(context.Background(), in)
	return err
}

// Cut bans every pair (i, j) with !reach[i][j], both ways, until Heal.
func (f *Fleet) Cut(reach [][]bool) {
	f.ban(reach, time.Hour)
}

// Heal lifts every ban.
func (f *Fleet) Heal() {
	f.ban(nil, 0)
}

func (f *Fleet) ban(reach [][]bool, d time.Duration) {
	for i, a := range f.nodes {
		for j, b := range f.nodes {
			if a == nil || b == nil || i == j || (reach != nil && reach[i][j]) {
				continue
			}
			a.Mesh().Ban(b.peerID(), d)
		}
	}
}

func (n *Node) peerID() peer.ID {
	id, _ := peer.Decode(n.ID())
	return id
}

// Crash stops node i (in-flight work is lost as in a crash; what is
// acknowledged is on disk), keeping its data directory.
func (f *Fleet) Crash(i int) error {
	nd := f.nodes[i]
	if nd == nil {
		return nil
	}
	f.nodes[i] = nil
	nd.cancel()
	return <-nd.done
}

// Wipe crashes node i and deletes its data directory: it restarts with a
// new identity.
func (f *Fleet) Wipe(i int) error {
	if err := f.Crash(i); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(f.cfg.Dir, "node-"+strconv.Itoa(i)))
}

// Restart starts node i again on its data directory, if it is down.
func (f *Fleet) Restart(i int) error {
	if f.nodes[i] != nil {
		return nil
	}
	return f.start(i)
}

// State is what the running nodes hold.
type State struct {
	Running   int  // nodes up
	Converged bool // every running node holds the same events
	Events    uint64
	Min       uint64 // the fewest events a running node holds
}

// State reports what the running nodes hold.
func (f *Fleet) State() State {
	var st State
	var digest [32]byte
	st.Converged = true
	for _, n := range f.nodes {
		if n == nil {
			continue
		}
		s := n.Store().Summary()
		if st.Running == 0 {
			digest, st.Events, st.Min = s.Digest, s.Events, s.Events
		} else if s.Digest != digest {
			st.Converged = false
		}
		st.Events, st.Min = max(st.Events, s.Events), min(st.Min, s.Events)
		st.Running++
	}
	return st
}

// WaitConverged polls every 20 ms until every running node holds the same
// want events, or timeout passes.
func (f *Fleet) WaitConverged(want uint64, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		st := f.State()
		if st.Converged && st.Events == want {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("%w after %v: %+v, want %d events", ErrNotConverged, timeout, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Close stops every node.
func (f *Fleet) Close() error {
	var errs []error
	for i := range f.nodes {
		if f.nodes[i] != nil {
			errs = append(errs, f.Crash(i))
		}
	}
	return errors.Join(errs...)
}
