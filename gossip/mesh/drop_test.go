package mesh

import (
	"testing"
	"time"
)

// measureDrop starts n nodes that know only node 0, waits for the full
// mesh, kills node 0 (no graceful leave: memberlist's failure detector has
// to notice) and returns how long until every live node has dropped it.
func measureDrop(t testing.TB, n int) time.Duration {
	nodes := []*Mesh{start(t, testConfig(t))}
	for range n - 1 {
		nodes = append(nodes, start(t, testConfig(t, addr(nodes[0]))))
	}
	closeAllAtEnd(t, nodes)
	waitFor(t, 20*time.Second, func() bool {
		for _, m := range nodes {
			if len(m.Members()) != n-1 {
				return false
			}
		}
		return true
	}, "%d nodes form a mesh", n)

	victim, live := nodes[0], nodes[1:]
	killed := time.Now()
	if err := victim.shutdown(false); err != nil {
		t.Fatalf("kill: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool {
		for _, m := range live {
			if isMember(m, victim) {
				return false
			}
		}
		return true
	}, "live nodes drop the killed node")
	took := time.Since(killed)
	for _, m := range live {
		if len(m.Members()) != n-2 {
			t.Fatalf("%s lost live members: %v", m.ID(), memberIDs(m))
		}
	}
	return took
}

// TestKilledNodeDropped: killing the node everyone joined through leaves a
// working mesh, and the others drop it within the documented ~5 s.
func TestKilledNodeDropped(t *testing.T) {
	took := measureDrop(t, 5)
	t.Logf("seconds-to-drop: %.2f (5 nodes, killed without leave)", took.Seconds())
	if took > 5*time.Second {
		t.Errorf("dropping a killed node took %v, want under 5 s", took)
	}
}

// BenchmarkDropTime reports how long live members take to drop a killed
// node. Run with -bench DropTime -benchtime 5x.
func BenchmarkDropTime(b *testing.B) {
	var total time.Duration
	for range b.N {
		total += measureDrop(b, 5)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "seconds-to-drop")
	b.ReportMetric(0, "ns/op")
}
