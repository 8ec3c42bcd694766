package mesh

import (
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestNoFalseSuspicionSoak runs 10 healthy nodes for RUMOR_SOAK_MINUTES
// minutes (skipped when unset) and counts how often a live member was
// declared gone: with the default timings it must never happen.
func TestNoFalseSuspicionSoak(t *testing.T) {
	minutes, _ := strconv.Atoi(os.Getenv("RUMOR_SOAK_MINUTES"))
	if minutes <= 0 {
		t.Skip("set RUMOR_SOAK_MINUTES to run the membership soak")
	}
	const size = 10
	first := start(t, testConfig(t))
	nodes := []*Mesh{first}
	for i := 1; i < size; i++ {
		nodes = append(nodes, start(t, testConfig(t, addr(first))))
	}
	for _, n := range nodes {
		waitFor(t, 30*time.Second, func() bool { return len(n.Members()) == size-1 }, "full membership")
	}
	var left atomic.Int64
	var over atomic.Bool // set before the nodes close and leave for real
	for _, n := range nodes {
		n.Subscribe(func(ev MemberEvent) {
			if ev.Kind == Left && !over.Load() {
				left.Add(1)
				t.Logf("false suspicion: %s declared gone", ev.Member.ID)
			}
		})
	}
	deadline := time.Now().Add(time.Duration(minutes) * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		for _, n := range nodes {
			if got := len(n.Members()); got != size-1 {
				t.Errorf("%s sees %d members", n.ID(), got)
			}
		}
	}
	over.Store(true)
	t.Logf("%d nodes for %d minutes: %d false member removals", size, minutes, left.Load())
	if left.Load() != 0 {
		t.Fatalf("%d healthy members were declared gone", left.Load())
	}
}
