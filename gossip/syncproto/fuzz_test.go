package syncproto

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// seedFrames returns the frame of every sample message.
func seedFrames(f *testing.F) map[Type][][]byte {
	out := make(map[Type][][]byte)
	for _, m := range sampleMessages(f) {
		b, err := AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		out[m.Type()] = append(out[m.Type()], b)
	}
	return out
}

func FuzzReadFrame(f *testing.F) {
	var all []byte
	for _, frames := range seedFrames(f) {
		for _, b := range frames {
			f.Add(b)
			all = append(all, b...)
		}
	}
	f.Add(all)
	f.Add([]byte{Version, byte(TypeDelta), 0xff, 0xff, 0xff, 0x07})
	f.Fuzz(func(t *testing.T, b []byte) { checkFrames(t, Codec{}, b) })
}

// FuzzReadFrameV1 is FuzzReadFrame for protocol version 1, seeded with the
// sample messages version 1 can carry.
func FuzzReadFrameV1(f *testing.F) {
	c, _ := NewCodec(Version1)
	for _, m := range sampleMessages(f) {
		if b, err := c.AppendFrame(nil, m); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFrames(t, c, b) })
}

// checkFrames reads frames from b until it ends or one does not decode:
// errors wrap ErrMalformed, and what decodes re-encodes stably.
func checkFrames(t *testing.T, c Codec, b []byte) {
	{
		r := bytes.NewReader(b)
		for {
			m, err := c.ReadFrame(r)
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			again, err := c.AppendFrame(nil, m)
			if err != nil {
				t.Fatalf("decoded %s does not encode: %v", m.Type(), err)
			}
			m2, err := c.DecodeFrame(again)
			if err != nil {
				t.Fatalf("re-encoded %s does not decode: %v", m.Type(), err)
			}
			if again2, _ := c.AppendFrame(nil, m2); !bytes.Equal(again, again2) {
				t.Fatalf("%s re-encoding is not stable", m.Type())
			}
		}
	}
}

// fuzzPayload checks a payload decoder: errors wrap ErrMalformed, and what
// decodes re-encodes to the same bytes.
func fuzzPayload[M interface {
	*T
	Message
	UnmarshalBinary([]byte) error
}, T any](f *testing.F, typ Type) {
	for _, b := range seedFrames(f)[typ] {
		m, err := DecodeFrame(b)
		if err != nil {
			f.Fatal(err)
		}
		p, _ := m.MarshalBinary()
		f.Add(p)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := M(new(T))
		if err := m.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs (%v):\n in  %x\n out %x", err, b, again)
		}
	})
}

func FuzzDecodeHello(f *testing.F)   { fuzzPayload[*Hello](f, TypeHello) }
func FuzzDecodeSyncReq(f *testing.F) { fuzzPayload[*SyncReq](f, TypeSyncReq) }
func FuzzDecodeDelta(f *testing.F)   { fuzzPayload[*Delta](f, TypeDelta) }
func FuzzDecodeDone(f *testing.F)    { fuzzPayload[*Done](f, TypeDone) }
func FuzzDecodeAck(f *testing.F)     { fuzzPayload[*Ack](f, TypeAck) }
func FuzzDecodeError(f *testing.F)   { fuzzPayload[*Error](f, TypeError) }

// FuzzSession feeds a responder session arbitrary frames, seeded with what
// a real initiator sent: whatever the bytes, the session never panics and
// never applies an event that is not one of the genuine ones, and the
// replica stays valid.
func FuzzSession(f *testing.F) {
	full, base := NewMemReplica(), NewMemReplica()
	var logs [][]testBatch
	for _, o := range newOrigins(f, 2, 600) {
		l := buildLog(f, o, 30, 10, 40, 0)
		logs = append(logs, l)
		applyAll(f, full, redactLog(f, o, l, 14)) // redacted events in the transcript too
		l[0].apply(f, base)
	}
	genuine := genuineSet(logs...)
	cfg := SessionConfig{MaxBatchBytes: 800, RunBytes: 2000}
	var transcript []byte
	net := &SimNet{Rand: newRand(1), OnFrame: func(from int, _ Message, frame []byte) {
		if from == 0 {
			transcript = append(transcript, frame...)
			f.Add(append([]byte(nil), transcript...))
		}
	}}
	if _, err := net.Run(full.Clone(), base.Clone(), cfg, cfg); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := base.Clone()
		s := NewSession(cfg, r, false)
		s.Start()
		in := bytes.NewReader(b)
		for !s.Done() {
			m, err := ReadFrame(in)
			if err == io.EOF {
				break
			}
			var rd Ready
			if err != nil {
				rd = s.Abort(err)
			} else {
				rd, _ = s.Step(m)
			}
			for _, ap := range rd.Apply {
				for i, e := range ap.Events {
					if !genuine[e.Hash()] || ap.Hashes[i] != e.Hash() {
						t.Fatalf("applying a non-genuine event %s/%d", e.Device, e.Seq)
					}
				}
				if _, err := r.Apply(ap); err != nil {
					t.Fatal(err)
				}
				s.Applied(1)
			}
		}
		if err := r.Verify(); err != nil {
			t.Fatal(err)
		}
	})
}
