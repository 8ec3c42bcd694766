package syncproto

import (
	"testing"

	"github.com/rumor-sync/rumor/event"
	"pgregory.net/rapid"
)

// propLog is one origin's log with a seal over every event, so that any
// split into batches has its seals.
type propLog struct {
	events []*event.Event
	seals  []*event.Seal // seals[i] covers events[i]
}

func propLogs(t *testing.T) []propLog {
	var out []propLog
	for _, o := range newOrigins(t, 3, 9000) {
		var l propLog
		for _, b := range buildLog(t, o, 40, 1, 30, 0) {
			l.events = append(l.events, b.events...)
			l.seals = append(l.seals, b.seal)
		}
		out = append(out, l)
	}
	return out
}

// TestPropSessionConverges: for random event sets split between two
// replicas (random batches, so with gaps on either side), random configs
// and random delivery orders, one successful session makes both contexts
// equal to the union, and the next session, initiated by the other side,
// is in sync at once.
func TestPropSessionConverges(t *testing.T) {
	logs := propLogs(t)
	rapid.Check(t, func(rt *rapid.T) {
		a, b := NewMemReplica(), NewMemReplica()
		for _, l := range logs {
			n := rapid.IntRange(0, len(l.events)).Draw(rt, "events")
			for from := 0; from < n; {
				to := min(n, from+rapid.IntRange(1, 8).Draw(rt, "batch"))
				ap := Apply{Events: l.events[from:to], Seals: []*event.Seal{l.seals[to-1]}}
				switch rapid.IntRange(0, 3).Draw(rt, "holder") {
				case 0:
					mustApply(rt, a, ap)
				case 1:
					mustApply(rt, b, ap)
				case 2:
					mustApply(rt, a, ap)
					mustApply(rt, b, ap)
				}
				from = to
			}
		}
		union := a.Context()
		union.Merge(b.Context())
		cfg := SessionConfig{
			MaxBatchBytes: rapid.IntRange(1, 3000).Draw(rt, "batchBytes"),
			RunBytes:      rapid.IntRange(1, 5000).Draw(rt, "runBytes"),
			Window:        rapid.IntRange(1, 5).Draw(rt, "window"),
		}
		net := &SimNet{Rand: newRand(rapid.Uint64().Draw(rt, "seed"))}
		o, err := net.Run(a, b, cfg, cfg)
		if err != nil || o.Initiator.Err != nil || o.Responder.Err != nil {
			rt.Fatalf("session: %v / %v / %v", err, o.Initiator.Err, o.Responder.Err)
		}
		if !a.Context().Equal(b.Context()) || !a.Context().Equal(union) {
			rt.Fatalf("contexts differ after the session:\n a %v\n b %v", a.Context().Ranges(), b.Context().Ranges())
		}
		for _, r := range []*MemReplica{a, b} {
			if err := r.Verify(); err != nil {
				rt.Fatal(err)
			}
		}
		o, err = net.Run(b, a, cfg, cfg)
		if err != nil || o.Initiator.Err != nil || o.Initiator.RoundTrips != 1 || o.Frames != 2 {
			rt.Fatalf("second session not in sync: %v %+v", err, o)
		}
	})
}

func mustApply(t interface{ Fatal(...any) }, r *MemReplica, a Apply) {
	if _, err := r.Apply(a); err != nil {
		t.Fatal(err)
	}
}
