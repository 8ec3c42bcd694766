package gossip

import (
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/internal/clock"
)

// Without a Policy, the replicator's switches come from the legacy
// fields; with one, its limits must match the session config.
func TestPolicyHolder(t *testing.T) {
	c := DefaultConfig()
	c.Interval, c.InlineBytes, c.EagerBlobs = 3*time.Second, 0, false
	c.Session.MaxBatchBytes, c.Session.Window = 64<<10, 12
	h, err := c.policyHolder()
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Defaults()
	want.SyncInterval, want.PushInlineBytes, want.BlobPolicy, want.SyncBatchBytes = 3*time.Second, 0, policy.OnDemand, 64<<10
	if got := h.Settings(); got != want {
		t.Fatalf("settings %+v, want %+v", got, want)
	}
	if lim := h.Limits(); lim.Window != 12 || lim.FrameTimeout != 15*time.Second {
		t.Fatalf("limits %+v", lim)
	}
	if sc := want.SessionConfig(c.Session); sc.MaxBatchBytes != 64<<10 || sc.Window != 12 || sc.RunBytes != want.SyncRunBytes {
		t.Fatalf("session config %+v", sc)
	}

	other, err := policy.NewHolder(policy.DefaultLimits(), policy.Resolved{Settings: policy.Defaults()}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	c.Policy = other // window 4, the session says 12
	if _, err := c.policyHolder(); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("mismatched limits: %v", err)
	}
	c.Session.Window = 0 // the default, 4: matches
	if h, err := c.policyHolder(); err != nil || h != other {
		t.Fatalf("matching limits: %v", err)
	}
}

func TestRoundRingKeepsTheLast(t *testing.T) {
	var rr roundRing
	for i := range roundsKept + 10 {
		rr.add(Round{Fanout: i})
	}
	if rr.total() != roundsKept+10 || len(rr.last) != roundsKept || rr.last[0].Fanout != 10 || rr.last[roundsKept-1].Fanout != roundsKept+9 {
		t.Fatalf("ring: %d rounds, first %d", rr.total(), rr.last[0].Fanout)
	}
}
