package syncproto

import (
	"bytes"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// encodedMem is a MemReplica that hands out runs as encodings in the
// caller's buffer, the way store.Store does, and scribbles over the buffer
// it is handed back before reusing it: a session that kept an encoding
// past the next read would send garbage.
type encodedMem struct{ *MemReplica }

func (r encodedMem) ReadRunEncodedInto(encs []event.Encoded, buf []byte, origin string, from, to uint64, maxBytes int) ([]event.Encoded, *event.Seal, []byte, error) {
	for i := range buf[:cap(buf)] {
		buf[:cap(buf)][i] = 0xAA
	}
	events, seal, err := r.ReadRun(origin, from, to, maxBytes)
	if err != nil {
		return nil, nil, buf, err
	}
	encs, buf = encs[:0], buf[:0]
	for _, e := range events {
		start := len(buf)
		buf = e.AppendBinary(buf) // a new buffer when it grows: earlier encodings stay valid
		encs = append(encs, event.Encoded{Seq: e.Seq, Bytes: buf[start:len(buf):len(buf)]})
	}
	return encs, seal, buf, nil
}

// lockstep runs a session between a (initiator, over ra) and b the way the
// node's driver does: every message is written through the codec, then
// handed back with Sent, and applies are persisted at once.
func lockstep(t *testing.T, ra, rb Replica, apply func(side int, a Apply), cfg SessionConfig) (Result, Result) {
	t.Helper()
	codec, err := NewCodec(cfg.withDefaults().Version)
	if err != nil {
		t.Fatal(err)
	}
	sess := [2]*Session{NewSession(cfg, ra, true), NewSession(cfg, rb, false)}
	var wire [2]bytes.Buffer // wire[i]: frames from side i
	var res [2]Result
	var done [2]bool
	var handle func(i int, rd Ready)
	handle = func(i int, rd Ready) {
		for _, m := range rd.Send {
			if err := codec.WriteFrame(&wire[i], m); err != nil {
				t.Fatal(err)
			}
			sess[i].Sent(m)
		}
		for _, a := range rd.Apply {
			apply(i, a)
			handle(i, sess[i].Applied(1))
		}
		if rd.Done {
			done[i], res[i] = true, rd.Result
		}
	}
	handle(0, sess[0].Start())
	handle(1, sess[1].Start())
	for steps := 0; !(done[0] && done[1]); steps++ {
		if steps > 1_000_000 {
			t.Fatal("no end")
		}
		moved := false
		for i := range 2 {
			from := &wire[1-i]
			if done[i] || from.Len() == 0 {
				continue
			}
			m, err := codec.ReadFrame(from)
			if err != nil {
				t.Fatal(err)
			}
			rd, _ := sess[i].Step(m)
			handle(i, rd)
			moved = true
		}
		if !moved {
			t.Fatalf("stuck: done %v", done)
		}
	}
	return res[0], res[1]
}

// TestSentReusesMemory: a sender that reads runs into one buffer and
// builds each frame in the memory of one already written delivers every
// event intact (the reader scribbles over what it is handed back).
func TestSentReusesMemory(t *testing.T) {
	full := NewMemReplica()
	var logs [][]testBatch
	for _, o := range newOrigins(t, 3, 4200) {
		l := buildLog(t, o, 600, 7, 200, 0)
		logs = append(logs, l)
		applyAll(t, full, l)
	}
	empty := NewMemReplica()
	reps := [2]*MemReplica{full, empty}
	cfg := SessionConfig{MaxBatchBytes: 16 << 10, RunBytes: 64 << 10}
	ra, rb := lockstep(t, encodedMem{full}, encodedMem{empty}, func(side int, a Apply) {
		if _, err := reps[side].Apply(a); err != nil {
			t.Fatal(err)
		}
	}, cfg)
	if ra.Err != nil || rb.Err != nil {
		t.Fatalf("session failed: %v; %v", ra.Err, rb.Err)
	}
	mustEqualContexts(t, full, empty)
	mustVerify(t, genuineSet(logs...), empty)
	if ra.EventsOut != 1800 {
		t.Fatalf("sent %d events, want 1800", ra.EventsOut)
	}
}
