package syncproto

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// redactedHome returns a replica holding origin o's 60 events in sealed
// batches of 10, with the events at seqs redacted by o.
func redactedHome(t *testing.T, o testOrigin, seqs ...uint64) (*MemReplica, []testBatch) {
	t.Helper()
	log := buildLog(t, o, 60, 10, 50, 0)
	r := NewMemReplica()
	applyAll(t, r, redactLog(t, o, log, seqs...))
	return r, log
}

func mustHold(t *testing.T, r *MemReplica, o string, seq uint64, redacted bool) {
	t.Helper()
	e, ok := r.Event(crdt.Dot{Origin: o, Seq: seq})
	if !ok || e.Redacted() != redacted {
		t.Fatalf("%s/%d: held %v, redacted %v; want redacted %v", o, seq, ok, ok && e.Redacted(), redacted)
	}
}

func TestSessionCarriesRedactedEvents(t *testing.T) {
	o := newOrigin(t, 70)
	a, log := redactedHome(t, o, 3, 15, 40)
	b := NewMemReplica()
	log[0].apply(t, b) // b holds seq 3 whole: it stays so, without a fork
	res := runSession(t, testSeed(t, 71), b, a, SessionConfig{MaxBatchBytes: 300, RunBytes: 800})
	if res.Version != Version2 || res.Initiator.Err != nil {
		t.Fatalf("%+v", res)
	}
	mustEqualContexts(t, a, b)
	mustVerify(t, genuineSet(log), a, b)
	mustHold(t, b, o.id, 3, false)
	mustHold(t, b, o.id, 15, true)
	mustHold(t, b, o.id, 40, true)
	mustHold(t, b, o.id, 41, false)
	if res.Initiator.Applied != 50 || len(res.Initiator.Forks) != 0 {
		t.Fatalf("applied %d, forks %d", res.Initiator.Applied, len(res.Initiator.Forks))
	}
}

// TestV1SessionWithholdsRedacted: a session in protocol version 1 sends
// each origin's events up to the last seal before a redacted event, skips
// the rest through it, and never puts a redacted event on the wire; a
// later version 2 session brings the rest.
func TestV1SessionWithholdsRedacted(t *testing.T) {
	o := newOrigin(t, 72)
	a, log := redactedHome(t, o, 3, 15, 40)
	b := NewMemReplica()
	net := &SimNet{Rand: newRand(testSeed(t, 73)), OnFrame: func(_ int, m Message, f []byte) {
		if f[0] != Version1 || (m.Type() == TypeHello && len(f) != 31) {
			t.Errorf("a version 1 session sent a %d-byte %s frame of version %d", len(f), m.Type(), f[0])
		}
	}}
	cfg := SessionConfig{MaxBatchBytes: 300, RunBytes: 800}
	v1 := cfg
	v1.Version = Version1
	res, err := net.Run(a, b, cfg, v1) // b speaks only version 1
	if err != nil || res.Initiator.Err != nil || res.Responder.Err != nil || res.Version != Version1 {
		t.Fatalf("%v %+v", err, res)
	}
	// 1..3: no seal before 3; 11..15: none between 11 and 15; 31..40 likewise.
	if res.Initiator.Withheld != 3+5+10 || res.Responder.Applied != 42 {
		t.Fatalf("withheld %d, applied %d; want 18 and 42", res.Initiator.Withheld, res.Responder.Applied)
	}
	want := crdt.NewContext()
	for _, r := range []crdt.Range{{Origin: o.id, From: 4, To: 10}, {Origin: o.id, From: 16, To: 30}, {Origin: o.id, From: 41, To: 60}} {
		want.AddRange(r)
	}
	if !b.Context().Equal(want) {
		t.Fatalf("version 1 peer holds %v", b.Context().Ranges())
	}
	mustVerify(t, genuineSet(log), b)
	res = runSession(t, 74, b, a, cfg)
	if res.Version != Version2 {
		t.Fatal("not version 2")
	}
	mustEqualContexts(t, a, b)
	mustVerify(t, genuineSet(log), b)
	mustHold(t, b, o.id, 15, true)
}

// TestRefusedRedaction: an operator's redaction reaches a replica whose
// policy does not list that operator: it applies nothing of the sealed run
// holding it up to it, counts it, and the session still succeeds; once the
// policy lists the operator, the run comes through.
func TestRefusedRedaction(t *testing.T) {
	o, op := newOrigin(t, 75), newOrigin(t, 76)
	log := buildLog(t, o, 60, 10, 50, 0)
	a := NewMemReplica()
	a.IsOperator = func(d string) bool { return d == op.id }
	applyAll(t, a, redactLog(t, op, log, 15))
	b := NewMemReplica()
	res := runSession(t, testSeed(t, 77), a, b, SessionConfig{RunBytes: 500})
	if res.Responder.Refused != 1 || res.Responder.Applied != 55 {
		t.Fatalf("refused %d, applied %d", res.Responder.Refused, res.Responder.Applied)
	}
	if _, ok := b.Event(crdt.Dot{Origin: o.id, Seq: 12}); ok {
		t.Fatal("applied events before a refused redaction")
	}
	// One run of everything: only what follows the refused event arrives.
	c := NewMemReplica()
	res = runSession(t, 82, a, c, SessionConfig{})
	if res.Responder.Refused != 1 || res.Responder.Applied != 45 {
		t.Fatalf("one run: refused %d, applied %d", res.Responder.Refused, res.Responder.Applied)
	}
	mustVerify(t, genuineSet(log), c)
	mustVerify(t, genuineSet(log), b)
	b.IsOperator = a.IsOperator
	runSession(t, 78, a, b, SessionConfig{})
	mustEqualContexts(t, a, b)
	mustHold(t, b, o.id, 15, true)
}

// TestForgedRedaction: a redacted event whose redaction does not verify
// ends the session as a protocol violation, and nothing of its run is
// applied.
func TestForgedRedaction(t *testing.T) {
	o := newOrigin(t, 79)
	log := buildLog(t, o, 20, 10, 50, 0)
	r, err := event.NewRedaction(o.key, o.id, log[1].events[4], 1)
	if err != nil {
		t.Fatal(err)
	}
	r.At++ // the signature no longer covers it
	forged := testBatch{events: append([]*event.Event(nil), log[1].events...), seal: log[1].seal}
	forged.events[4] = r.Stub()
	a, b := NewMemReplica(), NewMemReplica()
	applyAll(t, a, []testBatch{log[0], forged})
	res, err := (&SimNet{Rand: newRand(80)}).Run(a, b, SessionConfig{}, SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var pe *ProtocolError
	if !errors.As(res.Responder.Err, &pe) || pe.Code != CodeBadRedaction {
		t.Fatalf("responder: %v", res.Responder.Err)
	}
	if _, ok := b.Event(crdt.Dot{Origin: o.id, Seq: 11}); ok {
		t.Fatal("applied part of a run with a forged redaction")
	}
}

// TestFleetWithRedactionsOnFaultyNetwork extends the fleet test to
// redacted events: some replicas hold them whole, others redacted; under
// loss, duplication, reordering and corruption every replica converges and
// nothing it holds is invalid.
func TestFleetWithRedactionsOnFaultyNetwork(t *testing.T) {
	seed := testSeed(t, 81)
	for i, f := range []Faults{{}, {Loss: 0.02, Dup: 0.02, Reorder: 0.02, Corrupt: 0.02}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			n, failed, faulty := gossipUntilConvergedRedacted(t, seed+uint64(i)*100, f, 3000)
			t.Logf("converged after %d sessions; %d faulty frames, %d session ends failed", n, faulty, failed)
		})
	}
}

func gossipUntilConvergedRedacted(t *testing.T, seed uint64, faults Faults, maxSessions int) (sessions, failed, faulty int) {
	rs, genuine := fleetRedacted(t, seed, 5, 6, 60)
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
	return sessions, failed, faulty
}

// fleetRedacted is fleet with every origin's events at seqs 5, 23 and 47
// redacted by the origin on its home replica, whose batches the other
// replicas get either whole or redacted.
func fleetRedacted(t testing.TB, seed uint64, n, origins, events int) ([]*MemReplica, map[event.Hash]bool) {
	t.Helper()
	rng := newRand(seed)
	rs := make([]*MemReplica, n)
	for i := range rs {
		rs[i] = NewMemReplica()
	}
	var logs [][]testBatch
	for i, o := range newOrigins(t, origins, 6000) {
		l := buildLog(t, o, events, 10, 80, 0)
		red := redactLog(t, o, l, 5, 23, 47)
		logs = append(logs, l)
		applyAll(t, rs[i%n], red)
		for _, r := range rs {
			for k := range l {
				switch rng.IntN(4) {
				case 0:
					l[k].apply(t, r)
				case 1:
					red[k].apply(t, r)
				}
			}
		}
	}
	return rs, genuineSet(logs...)
}
