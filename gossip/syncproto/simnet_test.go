package syncproto

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// fleet is n replicas sharing origins' logs: each origin's home replica
// holds its whole log, and every other replica a random subset of batches.
func fleet(t testing.TB, seed uint64, n, origins, events int) ([]*MemReplica, map[event.Hash]bool) {
	t.Helper()
	rng := newRand(seed)
	rs := make([]*MemReplica, n)
	for i := range rs {
		rs[i] = NewMemReplica()
	}
	var logs [][]testBatch
	for i, o := range newOrigins(t, origins, 5000) {
		l := buildLog(t, o, events, 10, 80, 0)
		logs = append(logs, l)
		applyAll(t, rs[i%n], l)
		for _, r := range rs {
			for _, b := range l {
				if rng.IntN(3) == 0 {
					b.apply(t, r)
				}
			}
		}
	}
	return rs, genuineSet(logs...)
}

func converged(rs []*MemReplica) bool {
	d := digest16(rs[0].Context())
	for _, r := range rs[1:] {
		if digest16(r.Context()) != d {
			return false
		}
	}
	return true
}

// gossipUntilConverged runs sessions between random pairs until every
// replica holds the same events, checking after each session that nothing
// invalid was applied.
func gossipUntilConverged(t *testing.T, seed uint64, faults Faults, maxSessions int) (sessions, failed, faulty int) {
	rs, genuine := fleet(t, seed, 5, 8, 60)
	var want = rs[0].Context()
	for _, r := range rs[1:] {
		want.Merge(r.Context())
	}
	rng := newRand(seed + 1)
	net := &SimNet{Rand: rng, Faults: faults}
	cfg := SessionConfig{MaxBatchBytes: 1500, RunBytes: 3000, Window: 3, IdleTicks: 5}
	for !converged(rs) {
		if sessions == maxSessions {
			t.Fatalf("not converged after %d sessions (%d failed)", sessions, failed)
		}
		i := rng.IntN(len(rs))
		j := (i + 1 + rng.IntN(len(rs)-1)) % len(rs)
		o, err := net.Run(rs[i], rs[j], cfg, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sessions++
		faulty += o.Lost + o.Duplicated + o.Reordered + o.Corrupted
		for _, res := range []Result{o.Initiator, o.Responder} {
			if res.Err != nil {
				failed++
				if faults == (Faults{}) {
					t.Fatalf("session %d failed without faults: %v", sessions, res.Err)
				}
				checkFailure(t, res.Err)
			}
		}
		mustVerify(t, genuine, rs...)
	}
	if !rs[0].Context().Equal(want) {
		t.Fatal("converged to less than the union")
	}
	return sessions, failed, faulty
}

// checkFailure accepts the ways a session may fail on a faulty network.
func checkFailure(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrRemote) {
		t.Fatalf("unexpected failure: %v", err)
	}
}

func TestFleetConverges(t *testing.T) {
	seed := testSeed(t, 11)
	n, _, _ := gossipUntilConverged(t, seed, Faults{}, 200)
	t.Logf("5 replicas converged after %d sessions", n)
}

func TestFleetConvergesOnFaultyNetwork(t *testing.T) {
	seed := testSeed(t, 12)
	for i, f := range []Faults{
		{Loss: 0.03},
		{Dup: 0.03},
		{Reorder: 0.03},
		{Corrupt: 0.03},
		{Loss: 0.01, Dup: 0.01, Reorder: 0.01, Corrupt: 0.01},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			n, failed, faulty := gossipUntilConverged(t, seed+uint64(i)*100, f, 2000)
			t.Logf("converged after %d sessions; %d faulty frames, %d session ends failed", n, faulty, failed)
			if faulty == 0 {
				t.Error("no fault was injected")
			}
		})
	}
}
