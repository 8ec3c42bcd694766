package syncproto

import (
	"errors"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
)

func TestInSync1000Origins(t *testing.T) {
	a := NewMemReplica()
	for i, o := range newOrigins(t, 1000, 1000) {
		applyAll(t, a, buildLog(t, o, 1+i%3, 2, 32, 0))
	}
	b := a.Clone()
	var frames [2][]int
	net := &SimNet{Rand: newRand(testSeed(t, 1)), OnFrame: func(from int, m Message, f []byte) {
		if m.Type() != TypeHello {
			t.Errorf("in-sync session sent %s", m.Type())
		}
		frames[from] = append(frames[from], len(f))
	}}
	o, err := net.Run(a, b, SessionConfig{}, SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for side, r := range []Result{o.Initiator, o.Responder} {
		if r.Err != nil || r.RoundTrips != 1 || r.BytesOut > MaxHelloFrame || r.BytesIn > MaxHelloFrame {
			t.Errorf("side %d: %+v", side, r)
		}
		if len(frames[side]) != 1 || frames[side][0] > MaxHelloFrame {
			t.Errorf("side %d sent frames of %v bytes", side, frames[side])
		}
	}
	t.Logf("in sync, 1000 origins: %d bytes out, %d in, %d round trip", o.Initiator.BytesOut, o.Initiator.BytesIn, o.Initiator.RoundTrips)
}

func TestCatchUpFromEmpty(t *testing.T) {
	a := NewMemReplica()
	var logs [][]testBatch
	for _, o := range newOrigins(t, 10, 2000) {
		l := buildLog(t, o, 1000, 10, 64, 0)
		logs = append(logs, l)
		applyAll(t, a, l)
	}
	for _, emptyInitiates := range []bool{false, true} {
		full, empty := a.Clone(), NewMemReplica()
		init, resp := full, empty
		if emptyInitiates {
			init, resp = empty, full
		}
		o := runSession(t, testSeed(t, 2), init, resp, SessionConfig{MaxBatchBytes: 64 << 10, RunBytes: 256 << 10})
		mustEqualContexts(t, full, empty)
		mustVerify(t, genuineSet(logs...), empty)
		out, in := o.Initiator, o.Responder
		if emptyInitiates {
			out, in = in, out
		}
		if out.EventsOut != 10_000 || in.Applied != 10_000 || in.EventsIn != 10_000 || len(in.Ranges) != 10 {
			t.Fatalf("sender %+v\nreceiver %+v", out, in)
		}
		t.Logf("10k catch-up (empty side initiates: %v): %d frames, %d round trips, %d bytes for %d event bytes",
			emptyInitiates, o.Frames, out.RoundTrips, out.BytesOut+in.BytesOut, encodedBytes(flatten(logs)))
	}
}

func flatten(logs [][]testBatch) []testBatch {
	var out []testBatch
	for _, l := range logs {
		out = append(out, l...)
	}
	return out
}

func TestDisjointBothDirections(t *testing.T) {
	a, b := NewMemReplica(), NewMemReplica()
	origins := newOrigins(t, 4, 3000)
	var logs [][]testBatch
	for i, o := range origins {
		l := buildLog(t, o, 200, 10, 100, 0)
		logs = append(logs, l)
		if i%2 == 0 {
			applyAll(t, a, l)
		} else {
			applyAll(t, b, l)
		}
	}
	// A gap: b also holds batches 5..9 of origin 0, so a sends around them.
	applyAll(t, b, logs[0][5:10])
	o := runSession(t, testSeed(t, 3), a, b, SessionConfig{MaxBatchBytes: 2000, RunBytes: 5000, Window: 2})
	mustEqualContexts(t, a, b)
	mustVerify(t, genuineSet(logs...), a, b)
	if o.Initiator.Applied != 400 || o.Responder.Applied != 350 {
		t.Fatalf("applied %d and %d", o.Initiator.Applied, o.Responder.Applied)
	}
	if o.Initiator.RoundTrips < 3 {
		t.Fatalf("a window of 2 should stall: %d round trips", o.Initiator.RoundTrips)
	}
	// The next session, either way, is in sync.
	o = runSession(t, 4, b, a, SessionConfig{})
	if o.Initiator.RoundTrips != 1 || o.Frames != 2 {
		t.Fatalf("second session: %+v", o)
	}
}

func TestWindowBoundsInflight(t *testing.T) {
	a, b := NewMemReplica(), NewMemReplica()
	applyAll(t, a, buildLog(t, newOrigin(t, 1), 500, 10, 200, 0))
	cfg := SessionConfig{MaxBatchBytes: 1000, RunBytes: 3000, Window: 3}
	sa, sb := NewSession(cfg, a, true), NewSession(cfg, b, false)
	// Drive by hand: b never confirms applies, so a may have at most Window
	// DELTAs unacknowledged.
	toB := sa.Start().Send
	var toA []Message
	for range 100 {
		for _, m := range toB {
			rd, err := sb.Step(m)
			if err != nil {
				t.Fatal(err)
			}
			toA = append(toA, rd.Send...)
		}
		toB = nil
		for _, m := range toA {
			rd, err := sa.Step(m)
			if err != nil {
				t.Fatal(err)
			}
			toB = append(toB, rd.Send...)
		}
		toA = nil
		if sa.snd.inflight > cfg.Window {
			t.Fatalf("%d DELTAs in flight", sa.snd.inflight)
		}
	}
	if sa.snd.inflight != cfg.Window || len(sb.rcv.applying) == 0 {
		t.Fatalf("expected a stalled sender: inflight %d, applying %d", sa.snd.inflight, len(sb.rcv.applying))
	}
	if sa.Done() || sb.Done() {
		t.Fatal("session ended without the applies")
	}
}

func TestTimeout(t *testing.T) {
	s := NewSession(SessionConfig{IdleTicks: 3}, NewMemReplica(), true)
	if rd := s.Start(); len(rd.Send) != 1 {
		t.Fatal("no HELLO")
	}
	var rd Ready
	for i := 0; i < 3; i++ {
		rd = s.Tick()
	}
	if !rd.Done || !errors.Is(rd.Result.Err, ErrTimeout) {
		t.Fatalf("after 3 ticks: %+v", rd)
	}
	if e, ok := rd.Send[0].(*Error); !ok || e.Code != CodeTimeout {
		t.Fatalf("sent %v", rd.Send)
	}
	if _, err := s.Step(&Hello{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Step after the end: %v", err)
	}
}

func TestReplayedDeltaIsIgnored(t *testing.T) {
	a := NewMemReplica()
	log := buildLog(t, newOrigin(t, 5), 30, 10, 50, 0)
	applyAll(t, a, log)
	b := NewMemReplica()
	log[0].apply(t, b)
	s := NewSession(SessionConfig{}, b, false)
	s.Start()
	steps := []Message{&Hello{Schema: 1, Digest: digest16(a.Context()), Events: 30}, syncReq(t, a.Context())}
	for _, m := range steps {
		if _, err := s.Step(m); err != nil {
			t.Fatal(err)
		}
	}
	// The first batch again (b holds it), then twice the second batch.
	for i, d := range []*Delta{{Events: log[0].events, Seal: log[0].seal}, {Events: log[1].events, Seal: log[1].seal}, {Events: log[1].events, Seal: log[1].seal}} {
		rd, err := s.Step(d)
		if err != nil {
			t.Fatal(err)
		}
		wantApply := i == 1
		if (len(rd.Apply) == 1) != wantApply {
			t.Fatalf("delta %d: %d applies", i, len(rd.Apply))
		}
	}
	if s.res.EventsIn != 30 || len(s.rcv.applying) != 1 {
		t.Fatalf("events in %d, applying %d", s.res.EventsIn, len(s.rcv.applying))
	}
}

func syncReq(t testing.TB, c *crdt.Context) *SyncReq {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return &SyncReq{Context: b}
}
