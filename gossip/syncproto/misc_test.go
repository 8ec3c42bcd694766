package syncproto

import (
	"errors"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

func TestVerifyRun(t *testing.T) {
	o := newOrigin(t, 40)
	log := buildLog(t, o, 20, 10, 40, 0)
	first, second := log[0], log[1]
	h10 := first.events[9].Hash()
	zero := event.Hash{}
	cases := []struct {
		name string
		prev *event.Hash
		run  []*event.Event
		seal *event.Seal
		code Code // 0: valid
	}{
		{"from seq 1", &zero, first.events, first.seal, 0},
		{"from seq 1, no prev", nil, first.events, first.seal, 0},
		{"after held predecessor", &h10, second.events, second.seal, 0},
		{"predecessor not held", nil, second.events, second.seal, 0},
		{"suffix of a batch", nil, second.events[4:], second.seal, 0},
		{"across batches", nil, allEvents(log)[5:], second.seal, 0},
		{"wrong predecessor", &zero, second.events, second.seal, CodeBrokenChain},
		{"seal of another batch", nil, first.events, second.seal, CodeBadSeal},
		{"no seal", nil, first.events, nil, CodeBadSeal},
		{"empty", nil, nil, first.seal, CodeNotContiguous},
		{"gap", nil, append(first.events[:3:3], first.events[4:]...), first.seal, CodeNotContiguous},
	}
	for _, c := range cases {
		hashes, err := verifyRun(c.prev, c.run, c.seal)
		var pe *ProtocolError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.code == 0 && (len(hashes) != len(c.run) || hashes[len(hashes)-1] != c.run[len(c.run)-1].Hash()):
			t.Errorf("%s: wrong hashes", c.name)
		case c.code != 0 && (!errors.As(err, &pe) || pe.Code != c.code):
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		}
	}
}

func TestMemReplicaReadRun(t *testing.T) {
	o := newOrigin(t, 41)
	log := buildLog(t, o, 30, 10, 40, 0)
	r := NewMemReplica()
	log[0].apply(t, r)
	log[2].apply(t, r) // holds 1-10 and 21-30, seals at 10 and 30
	size := len(log[0].events[0].AppendBinary(nil))
	cases := []struct {
		from, to uint64
		max      int
		n        int
		sealAt   uint64 // 0: no seal
	}{
		{1, 5, 1 << 20, 10, 10},
		{1, 10, 1 << 20, 10, 10},
		{3, 3, 1 << 20, 8, 10},
		{1, 5, 3 * size, 3, 0},
		{1, 5, 1, 1, 0},
		{21, 30, 1 << 20, 10, 30},
		{11, 11, 1 << 20, 0, 0},
		{10, 10, 1 << 20, 1, 10},
	}
	for _, c := range cases {
		evs, seal, err := r.ReadRun(o.id, c.from, c.to, c.max)
		gotSeal := uint64(0)
		if seal != nil {
			gotSeal = seal.Seq
		}
		if err != nil || len(evs) != c.n || gotSeal != c.sealAt || (c.n > 0 && evs[0].Seq != c.from) {
			t.Errorf("ReadRun(%d, %d, %d) = %d events, seal %d, %v", c.from, c.to, c.max, len(evs), gotSeal, err)
		}
	}
	if n, err := r.Apply(Apply{Events: log[0].events, Seals: []*event.Seal{log[0].seal}}); n != 0 || err != nil {
		t.Fatalf("re-apply: %d, %v", n, err)
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
}

// unsealedReplica hides every seal: it breaks the Replica contract.
type unsealedReplica struct{ *MemReplica }

func (u unsealedReplica) ReadRun(origin string, from, to uint64, maxBytes int) ([]*event.Event, *event.Seal, error) {
	evs, _, err := u.MemReplica.ReadRun(origin, from, to, maxBytes)
	return evs, nil, err
}

func TestSenderReplicaFailure(t *testing.T) {
	a := NewMemReplica()
	applyAll(t, a, buildLog(t, newOrigin(t, 42), 20, 10, 40, 0))
	s := NewSession(SessionConfig{}, unsealedReplica{a}, false)
	s.Start()
	empty := crdt.NewContext()
	if _, err := s.Step(&Hello{Schema: 1, Digest: digest16(empty)}); err != nil {
		t.Fatal(err)
	}
	rd, err := s.Step(syncReq(t, empty))
	if err == nil || errors.Is(err, ErrProtocol) || !rd.Done {
		t.Fatalf("got %v", err)
	}
	if e, ok := rd.Send[len(rd.Send)-1].(*Error); !ok || e.Code != CodeInternal {
		t.Fatalf("sent %v", rd.Send)
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultSessionConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if (SessionConfig{}).withDefaults() != DefaultSessionConfig() {
		t.Fatal("zero config is not the default")
	}
	for _, c := range []SessionConfig{
		{MaxBatchBytes: 9 << 20}, {MaxBatchBytes: -1}, {Window: -1}, {Window: 2000},
		{RunBytes: 40 << 20}, {MaxPendingBytes: 1000}, {IdleTicks: -1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v validates", c)
		}
		rd := NewSession(c, NewMemReplica(), true).Start()
		if !rd.Done || rd.Result.Err == nil || len(rd.Send) != 1 {
			t.Errorf("%+v: session started: %+v", c, rd)
		}
	}
}

func TestAppliedMisuse(t *testing.T) {
	s := NewSession(SessionConfig{}, NewMemReplica(), true)
	s.Start()
	rd := s.Applied(1)
	if !rd.Done || rd.Result.Err == nil || errors.Is(rd.Result.Err, ErrProtocol) {
		t.Fatalf("got %+v", rd)
	}
	if rd := s.Applied(1); rd.Done || len(rd.Send) != 0 {
		t.Fatal("a finished session answered")
	}
}
