package node

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/gossip/mesh"
)

func peerID(t *testing.T, n *testNode) peer.ID {
	t.Helper()
	id, err := peer.Decode(n.ID())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// partition cuts every link between the two sides for d, from both ends;
// d 0 heals it.
func partition(t *testing.T, left, right []*testNode, d time.Duration) {
	for _, l := range left {
		for _, r := range right {
			l.Mesh().Ban(peerID(t, r), d)
			r.Mesh().Ban(peerID(t, l), d)
		}
	}
}

func TestPartitionAndHeal(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	c := startTestNode(t, "", nil, a.addr(t), b.addr(t))
	d := startTestNode(t, "", nil, c.addr(t), a.addr(t))
	all := []*testNode{a, b, c, d}
	a.emit(t, 10, "before")
	waitFor(t, 20*time.Second, "initial convergence", func() bool { return converged(all, 10) })

	// Cut until healed below: a cut that healed by itself could heal
	// before the sides converge alone on a slow machine.
	partition(t, []*testNode{a, b}, []*testNode{c, d}, time.Hour)
	a.emit(t, 5, "left")
	c.emit(t, 7, "right")
	waitFor(t, 10*time.Second, "each side to converge alone", func() bool {
		return converged([]*testNode{a, b}, 15) && converged([]*testNode{c, d}, 17)
	})
	if d.Store().Holds(crdt.Dot{Origin: a.ID(), Seq: 11}) {
		t.Fatal("an event crossed the partition")
	}
	partition(t, []*testNode{a, b}, []*testNode{c, d}, 0)
	waitFor(t, 60*time.Second, "convergence after the heal", func() bool { return converged(all, 22) })
}

func TestRestartOnDataDirCatchesUp(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	b.emit(t, 5, "mine")
	waitFor(t, 15*time.Second, "first convergence", func() bool { return converged([]*testNode{a, b}, 5) })
	dir, id := b.dir, b.ID()
	b.stop()
	a.emit(t, 20, "while-away")
	b2 := startTestNode(t, dir, nil, a.addr(t))
	if b2.ID() != id {
		t.Fatal("restarted node changed identity")
	}
	b2.emit(t, 1, "mine")
	waitFor(t, 15*time.Second, "restarted node to catch up", func() bool { return converged([]*testNode{a, b2}, 26) })
	if got := b2.Store().Summary().VersionVector[id]; got != 6 {
		t.Fatalf("restarted node's own log has %d events, want 6", got)
	}
}

func TestWipedNodeRejoinsWithNewIdentity(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	b.emit(t, 8, "old")
	a.emit(t, 4, "a")
	waitFor(t, 15*time.Second, "first convergence", func() bool { return converged([]*testNode{a, b}, 12) })
	oldID := b.ID()
	b.stop()
	if err := os.RemoveAll(b.dir); err != nil {
		t.Fatal(err)
	}
	fresh := startTestNode(t, "", nil, a.addr(t))
	if fresh.ID() == oldID {
		t.Fatal("wiped node kept its identity")
	}
	waitFor(t, 15*time.Second, "wiped node to get everything back", func() bool { return converged([]*testNode{a, fresh}, 12) })
	if fresh.Store().Summary().VersionVector[oldID] != 8 {
		t.Fatal("the old identity's events did not come back")
	}
}

func writeSecret(t *testing.T) string {
	t.Helper()
	s, err := mesh.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mesh.key")
	if err := os.WriteFile(path, mesh.EncodeSecret(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOutsidersGetNothing runs a private mesh and two outsiders pointed at
// it: one with another secret, one with the same secret but another mesh
// name. Neither may receive or give a single event.
func TestOutsidersGetNothing(t *testing.T) {
	secret := writeSecret(t)
	withSecret := func(path, meshName string) func(*Config) {
		return func(c *Config) { c.SecretFile, c.Mesh = path, meshName }
	}
	a := startTestNode(t, "", withSecret(secret, "fleet"))
	b := startTestNode(t, "", withSecret(secret, "fleet"), a.addr(t))
	wrongKey := startTestNode(t, "", withSecret(writeSecret(t), "fleet"), a.addr(t))
	wrongMesh := startTestNode(t, "", withSecret(secret, "other"), a.addr(t), b.addr(t))
	a.emit(t, 10, "inside")
	wrongKey.emit(t, 3, "outside")
	wrongMesh.emit(t, 4, "outside")
	waitFor(t, 15*time.Second, "the mesh to converge", func() bool { return converged([]*testNode{a, b}, 10) })
	// Let the insiders run many sync rounds, in which an outsider could
	// (wrongly) have been picked or have pushed anything.
	waitFor(t, 20*time.Second, "ten more sessions on a", func() bool { return len(a.Replicator().Sessions()) >= 10 })
	for _, out := range []*testNode{wrongKey, wrongMesh} {
		if got := out.Store().Summary().Events; got > 4 {
			t.Fatalf("outsider %s holds %d events", out.ID(), got)
		}
		if a.Store().Summary().VersionVector[out.ID()] != 0 || b.Store().Summary().VersionVector[out.ID()] != 0 {
			t.Fatal("an outsider's events entered the mesh")
		}
		if hasMember(a, out.ID()) {
			t.Fatal("an outsider became a member")
		}
	}
}

func TestBlobFetchedAcrossMesh(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	data := bytes.Repeat([]byte("rumor blob "), 300_000) // ~3.3 MB: chunked
	resp, err := http.Post(a.url+"/v1/blobs", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cidStr := strings.Split(strings.Split(string(body), `"cid":"`)[1], `"`)[0]
	waitFor(t, 10*time.Second, "b to see a as a peer", func() bool { return hasMember(b, a.ID()) })
	resp, err = http.Get(b.url + "/v1/blobs/" + cidStr)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("b served %d: %d bytes, want %d", resp.StatusCode, len(got), len(data))
	}
}

func TestHealthReportsCompleteness(t *testing.T) {
	a := startTestNode(t, "", nil)
	b := startTestNode(t, "", nil, a.addr(t))
	a.emit(t, 30, "h")
	waitFor(t, 15*time.Second, "convergence", func() bool { return converged([]*testNode{a, b}, 30) })
	resp, err := http.Get(b.url + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"completeness":1`) || !strings.Contains(string(body), `"known_max_seq":30`) {
		t.Fatalf("health: %s", body)
	}
}

// TestWebSocketMeshConverges runs a private mesh whose nodes listen only on
// libp2p's WebSocket transport, as devices behind HTTP proxies would.
func TestWebSocketMeshConverges(t *testing.T) {
	secret := writeSecret(t)
	ws := func(c *Config) { c.Listen, c.SecretFile = []string{"/ip4/127.0.0.1/tcp/0/ws"}, secret }
	a := startTestNode(t, "", ws)
	b := startTestNode(t, "", ws, a.addr(t))
	if !strings.Contains(a.addr(t), "/ws/") {
		t.Fatalf("a listens on %s", a.addr(t))
	}
	a.emit(t, 12, "ws")
	b.emit(t, 3, "ws")
	waitFor(t, 15*time.Second, "convergence over WebSocket", func() bool { return converged([]*testNode{a, b}, 15) })
}
