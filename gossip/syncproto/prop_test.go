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
		union := NewMemReplica()
		for i, l := range logs {
			n := rapid.IntRange(0, len(l.events)).Draw(rt, "events")
			for from := 0; from < n; {
				to := min(n, from+rapid.IntRange(1, 8).Draw(rt, "batch"))
				ap := Apply{Events: l.events[from:to], Seals: []*event.Seal{l.seals[to-1]}}
				switch rapid.IntRange(0, 3).Draw(rt, "holder") {
				case 0:
					a.Apply(ap)
				case 1:
					b.Apply(ap)
				case 2:
					a.Apply(ap)
					b.Apply(ap)
				}
				union.Apply(ap)
				from = to
			}
			_ = i
		}
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
		if !a.Context().Equal(b.Context()) || !a.Context().Equal(union.Context()) {
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
