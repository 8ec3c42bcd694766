package syncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// openSession returns b's responder session after a HELLO and a SYNC_REQ
// from a peer claiming peerCtx, so that DELTAs are accepted.
func openSession(t testing.TB, b Replica, cfg SessionConfig, peerCtx *crdt.Context) *Session {
	t.Helper()
	s := NewSession(cfg, b, false)
	s.Start()
	for _, m := range []Message{&Hello{Schema: 1, Digest: digest16(peerCtx), Events: peerCtx.Len()}, syncReq(t, peerCtx)} {
		if _, err := s.Step(m); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// wantViolation steps msgs into s and checks that the last one ends the
// session with code, an ERROR to the peer, and no Apply at all.
func wantViolation(t *testing.T, s *Session, code Code, msgs ...Message) Result {
	t.Helper()
	var rd Ready
	var err error
	for i, m := range msgs {
		rd, err = s.Step(m)
		if len(rd.Apply) > 0 {
			t.Fatalf("message %d produced an Apply", i)
		}
		if i < len(msgs)-1 && err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	return checkViolation(t, rd, err, code)
}

func checkViolation(t *testing.T, rd Ready, err error, code Code) Result {
	t.Helper()
	var pe *ProtocolError
	if !errors.Is(err, ErrProtocol) || !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("got %v, want a %s protocol error", err, code)
	}
	if !rd.Done || rd.Result.Err != err {
		t.Fatalf("session not ended: %+v", rd)
	}
	if n := len(rd.Send); n == 0 {
		t.Fatal("no ERROR sent")
	} else if e, ok := rd.Send[n-1].(*Error); !ok || e.Code != code {
		t.Fatalf("sent %v", rd.Send[n-1])
	}
	return rd.Result
}

func TestMaliciousPeer(t *testing.T) {
	o, mallory := newOrigin(t, 100), newOrigin(t, 101)
	legit := buildLog(t, o, 20, 10, 60, 0)
	forked := buildLog(t, o, 20, 10, 60, 1) // the same origin signs a second history
	b := NewMemReplica()
	legit[0].apply(t, b) // b holds o:1-10
	before := b.Context()
	full := NewMemReplica()
	applyAll(t, full, legit)
	peer := full.Context()
	open := func(cfg SessionConfig) *Session { return openSession(t, b, cfg, peer) }
	next := legit[1].events

	t.Run("forged seal", func(t *testing.T) {
		s, err := event.NewSeal(mallory.key, o.id, 20, next[9].Hash())
		if err != nil {
			t.Fatal(err)
		}
		wantViolation(t, open(SessionConfig{}), CodeBadSeal, &Delta{Events: next, Seal: &s})
	})
	t.Run("flipped signature", func(t *testing.T) {
		s := *legit[1].seal
		s.Sig = bytes.Clone(s.Sig)
		s.Sig[5] ^= 1
		wantViolation(t, open(SessionConfig{}), CodeBadSeal, &Delta{Events: next, Seal: &s})
	})
	t.Run("tampered head", func(t *testing.T) {
		evs := append([]*event.Event(nil), next...)
		c := *evs[9]
		c.Payload = []byte(`{"p":"changed"}`)
		evs[9] = &c
		wantViolation(t, open(SessionConfig{}), CodeBadSeal, &Delta{Events: evs, Seal: legit[1].seal})
	})
	t.Run("broken chain", func(t *testing.T) {
		evs := append([]*event.Event(nil), next...)
		c := *evs[4]
		c.Payload = []byte(`{"p":"changed"}`)
		evs[4] = &c
		wantViolation(t, open(SessionConfig{}), CodeBrokenChain, &Delta{Events: evs, Seal: legit[1].seal})
	})
	t.Run("fork at a held dot", func(t *testing.T) {
		res := wantViolation(t, open(SessionConfig{}), CodeFork, &Delta{Events: forked[0].events, Seal: forked[0].seal})
		if len(res.Forks) != 1 || res.Forks[0][0].Hash() != legit[0].events[0].Hash() || res.Forks[0][1].Hash() != forked[0].events[0].Hash() {
			t.Fatalf("fork evidence %+v", res.Forks)
		}
	})
	t.Run("fork after the held predecessor", func(t *testing.T) {
		wantViolation(t, open(SessionConfig{}), CodeFork, &Delta{Events: forked[1].events, Seal: forked[1].seal})
	})
	t.Run("wrong origin in a run", func(t *testing.T) {
		other := buildLog(t, mallory, 10, 10, 60, 0)[0]
		wantViolation(t, open(SessionConfig{}), CodeWrongOrigin, &Delta{Events: next[:5]}, &Delta{Events: other.events, Seal: other.seal})
	})
	t.Run("gap in a run", func(t *testing.T) {
		wantViolation(t, open(SessionConfig{}), CodeNotContiguous, &Delta{Events: next[:4]}, &Delta{Events: next[5:], Seal: legit[1].seal})
	})
	t.Run("mixed origins in one delta", func(t *testing.T) {
		other := buildLog(t, mallory, 2, 2, 60, 0)[0]
		wantViolation(t, open(SessionConfig{}), CodeMalformed, &Delta{Events: []*event.Event{next[0], other.events[1]}})
	})
	t.Run("invalid event", func(t *testing.T) {
		wantViolation(t, open(SessionConfig{}), CodeMalformed, &Delta{Events: []*event.Event{badEvent(next[0])}})
	})
	t.Run("pending limit", func(t *testing.T) {
		cfg := SessionConfig{MaxPendingBytes: 1500, RunBytes: 700, MaxBatchBytes: 100, Window: 1}
		wantViolation(t, open(cfg), CodePendingLimit, &Delta{Events: next[:3]}, &Delta{Events: next[3:6]}, &Delta{Events: next[6:9]})
	})
	t.Run("ignoring backpressure", func(t *testing.T) {
		q := buildLog(t, newOrigin(t, 102), 40, 5, 60, 0)
		s := open(SessionConfig{MaxPendingBytes: 3000, RunBytes: 1000, MaxBatchBytes: 500, Window: 1})
		var rd Ready
		var err error
		for i := 0; err == nil && i < len(q); i++ {
			// Valid runs, but never waiting for an ACK; b never confirms.
			rd, err = s.Step(&Delta{Events: q[i].events, Seal: q[i].seal})
		}
		if len(rd.Apply) != 0 {
			t.Fatal("the offending DELTA was applied")
		}
		checkViolation(t, rd, err, CodePendingLimit)
	})
	t.Run("flooding duplicates", func(t *testing.T) {
		q := buildLog(t, newOrigin(t, 103), 10, 10, 60, 0)[0]
		s := open(SessionConfig{})
		d := &Delta{Events: q.events, Seal: q.seal}
		var rd Ready
		var err error
		for i := 0; err == nil && i < 2000; i++ {
			rd, err = s.Step(d) // the first is applied (never confirmed), the rest are duplicates
		}
		checkViolation(t, rd, err, CodeFlowControl)
	})
	t.Run("done inside a run", func(t *testing.T) {
		wantViolation(t, open(SessionConfig{}), CodeNotContiguous, &Delta{Events: next[:3]}, &Done{})
	})
	t.Run("unsolicited ack", func(t *testing.T) {
		// b has nothing the peer lacks: it sent DONE at once, no DELTA.
		wantViolation(t, open(SessionConfig{}), CodeFlowControl, &Ack{})
	})
	t.Run("delta before sync", func(t *testing.T) {
		s := NewSession(SessionConfig{}, b, false)
		s.Start()
		wantViolation(t, s, CodeUnexpected, &Delta{Events: next, Seal: legit[1].seal})
	})
	t.Run("second hello", func(t *testing.T) {
		wantViolation(t, open(SessionConfig{}), CodeUnexpected, &Hello{})
	})
	t.Run("schema", func(t *testing.T) {
		s := NewSession(SessionConfig{}, b, false)
		wantViolation(t, s, CodeSchema, &Hello{Schema: 2})
	})
	t.Run("lying hello", func(t *testing.T) {
		s := NewSession(SessionConfig{}, b, false)
		wantViolation(t, s, CodeBadHello, &Hello{Schema: 1, Digest: digest16(b.Context()), Events: 11})
	})
	t.Run("oversized frame length", func(t *testing.T) {
		f := binary.AppendUvarint([]byte{Version, byte(TypeDelta)}, MaxFrame+1)
		_, err := DecodeFrame(append(f, make([]byte, 100)...))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode: %v", err)
		}
		rd := open(SessionConfig{}).Abort(err)
		checkViolation(t, rd, rd.Result.Err, CodeMalformed)
	})
	t.Run("garbage", func(t *testing.T) {
		rng := newRand(testSeed(t, 5))
		for range 200 {
			g := make([]byte, rng.IntN(300))
			for i := range g {
				g[i] = byte(rng.Uint32())
			}
			if _, err := DecodeFrame(g); err == nil {
				continue
			} else if !errors.Is(err, ErrMalformed) {
				t.Fatalf("garbage: %v", err)
			}
		}
	})
	t.Run("remote error", func(t *testing.T) {
		s := open(SessionConfig{})
		rd, err := s.Step(&Error{Code: CodeTimeout, Msg: "bye"})
		var re *RemoteError
		if !errors.As(err, &re) || !errors.Is(err, ErrRemote) || re.Code != CodeTimeout || len(rd.Send) != 0 || !rd.Done {
			t.Fatalf("got %v, %+v", err, rd)
		}
	})
	if !b.Context().Equal(before) {
		t.Fatal("the malicious peer changed the replica")
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}
