package syncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// sampleMessages returns one or more valid messages of every type.
func sampleMessages(t testing.TB) map[string]Message {
	t.Helper()
	o := newOrigin(t, 7)
	log := buildLog(t, o, 12, 4, 40, 0)
	ctx := crdt.NewContext()
	ctx.AddRange(crdt.Range{Origin: o.id, From: 1, To: 9})
	ctx.Add(crdt.Dot{Origin: o.id, Seq: 12})
	return map[string]Message{
		"hello":          &Hello{Schema: 1, Digest: digest16(ctx), Events: 10, Versions: SupportedVersions},
		"hello max":      &Hello{Schema: ^uint32(0), Digest: [16]byte{0xff}, Events: ^uint64(0), Versions: ^Versions(0)},
		"delta redacted": &Delta{Events: redactedCopy(t, o, log[1].events, 1).events, Seal: log[1].seal},
		"sync_req":       syncReq(t, ctx),
		"sync_req empty": syncReq(t, crdt.NewContext()),
		"delta unsealed": &Delta{Events: log[0].events[:2]},
		"delta sealed":   &Delta{Events: log[1].events, Seal: log[1].seal},
		"delta one":      &Delta{Events: log[2].events[3:], Seal: log[2].seal},
		"done":           &Done{},
		"ack":            &Ack{Applied: 0, Digest: digest16(ctx)},
		"ack max":        &Ack{Applied: ^uint64(0)},
		"error":          &Error{Code: CodeFork, Msg: "fork at x/3"},
		"error max":      &Error{Code: 255, Msg: strings.Repeat("é", MaxErrorMsg/2)},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	var order []string
	for name, m := range sampleMessages(t) {
		frame, err := AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if FrameSize(m) != len(frame) {
			t.Errorf("%s: FrameSize %d, frame %d bytes", name, FrameSize(m), len(frame))
		}
		got, err := DecodeFrame(frame)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Type() != m.Type() {
			t.Fatalf("%s: type %s", name, got.Type())
		}
		again, err := AppendFrame(nil, got)
		if err != nil || !bytes.Equal(again, frame) {
			t.Fatalf("%s: re-encoding differs (%v)", name, err)
		}
		if m.Type() == TypeHello && len(frame) > MaxHelloFrame {
			t.Fatalf("HELLO frame of %d bytes", len(frame))
		}
		if err := WriteFrame(&stream, m); err != nil {
			t.Fatal(err)
		}
		order = append(order, name)
	}
	for _, name := range order {
		m, err := ReadFrame(&stream)
		if err != nil {
			t.Fatalf("stream, %s: %v", name, err)
		}
		if FrameSize(m) == 0 {
			t.Fatal("zero size")
		}
	}
	if _, err := ReadFrame(&stream); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
}

// A HELLO frame is 31 bytes in version 1, 32 in version 2 (the versions
// its sender speaks).
func TestHelloFrameSize(t *testing.T) {
	h := &Hello{Schema: 7, Events: 1 << 40, Versions: SupportedVersions}
	for v, want := range map[uint8]int{Version1: 31, Version2: 32} {
		c, _ := NewCodec(v)
		f, err := c.AppendFrame(nil, h)
		if err != nil || len(f) != want || c.FrameSize(h) != want {
			t.Fatalf("version %d HELLO frame %d bytes (FrameSize %d), %v; want %d", v, len(f), c.FrameSize(h), err, want)
		}
	}
}

func frame(typ Type, payload []byte) []byte {
	b := []byte{Version, byte(typ)}
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func TestDecodeRejects(t *testing.T) {
	msgs := sampleMessages(t)
	enc := func(name string) []byte {
		b, err := msgs[name].MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	delta := enc("delta sealed")
	hello := enc("hello")
	ctxBytes := enc("sync_req")
	o := newOrigin(t, 8)
	other := buildLog(t, o, 4, 4, 40, 0)
	cases := map[string][]byte{
		"empty":               {},
		"header only":         {Version},
		"version 0":           {0, byte(TypeDone), 0},
		"version 3":           append([]byte{3}, frame(TypeDone, nil)[1:]...),
		"version 1":           append([]byte{1}, frame(TypeDone, nil)[1:]...),
		"hello without v2":    frame(TypeHello, append(hello[:28:28], 1<<1)),
		"hello versions pad":  frame(TypeHello, append(hello[:28:28], 0x86, 0x00)),
		"type 0":              {Version, 0, 0},
		"type 7":              {Version, 7, 0},
		"non-minimal length":  {Version, byte(TypeDone), 0x80, 0x00},
		"length too long":     {Version, byte(TypeDelta), 0x80, 0x80, 0x80, 0x80, 0x01},
		"oversized delta":     binary.AppendUvarint([]byte{Version, byte(TypeDelta)}, MaxFrame+1),
		"oversized hello":     frame(TypeHello, make([]byte, 62)),
		"oversized ack":       frame(TypeAck, make([]byte, maxAckLen+1)),
		"oversized error":     frame(TypeError, make([]byte, 260)),
		"truncated payload":   frame(TypeHello, hello)[:20],
		"trailing after":      append(frame(TypeDone, nil), 0),
		"hello short":         frame(TypeHello, hello[:27]),
		"hello long":          frame(TypeHello, append(hello, 0)),
		"done with payload":   frame(TypeDone, []byte{0}),
		"ack non-minimal":     frame(TypeAck, append([]byte{0x81, 0x00}, make([]byte, 16)...)),
		"ack short":           frame(TypeAck, make([]byte, 16)),
		"ack trailing":        frame(TypeAck, make([]byte, 18)),
		"error code 0":        frame(TypeError, []byte{0, 0}),
		"error not utf8":      frame(TypeError, []byte{1, 1, 0xff}),
		"error long msg":      frame(TypeError, append([]byte{1, 0x81, 0x02}, make([]byte, 257)...)),
		"error truncated":     frame(TypeError, []byte{1, 3, 'a'}),
		"sync_req empty":      frame(TypeSyncReq, nil),
		"sync_req trailing":   frame(TypeSyncReq, append(append([]byte(nil), ctxBytes...), 0)),
		"sync_req version":    frame(TypeSyncReq, []byte{2, 0}),
		"delta truncated":     frame(TypeDelta, delta[:len(delta)-1]),
		"delta trailing":      frame(TypeDelta, append(append([]byte(nil), delta...), 0)),
		"delta no events":     frame(TypeDelta, []byte{0, 0}),
		"delta count too big": frame(TypeDelta, []byte{0xff, 0x01, 0}),
		"delta seal flag 2":   frame(TypeDelta, deltaBytes(t, msgs["delta unsealed"].(*Delta).Events, nil, 2)),
		"delta mixed origins": frame(TypeDelta, deltaBytes(t, append(msgs["delta unsealed"].(*Delta).Events[:1:1], other[0].events[1]), nil, 0)),
		"delta gap":           frame(TypeDelta, deltaBytes(t, []*event.Event{other[0].events[0], other[0].events[2]}, nil, 0)),
		"delta seal not last": frame(TypeDelta, deltaBytes(t, other[0].events[:3], other[0].seal, 1)),
		"delta bad event":     frame(TypeDelta, deltaBytes(t, []*event.Event{badEvent(other[0].events[0])}, nil, 0)),
	}
	for name, b := range cases {
		if m, err := DecodeFrame(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, %v; want ErrMalformed", name, m, err)
		}
	}
}

// deltaBytes encodes a DELTA payload without the encoder's checks.
func deltaBytes(t testing.TB, events []*event.Event, seal *event.Seal, flag byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(events)))
	for _, e := range events {
		enc := e.AppendBinary(nil)
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	b = append(b, flag)
	if seal != nil {
		enc := seal.AppendBinary(nil)
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	return b
}

func badEvent(e *event.Event) *event.Event {
	c := *e
	c.Payload = []byte(`[1]`)
	return &c
}

func TestEncodeRefuses(t *testing.T) {
	o := newOrigin(t, 9)
	log := buildLog(t, o, 8, 4, 40, 0)
	for name, m := range map[string]Message{
		"error code 0":   &Error{Msg: "x"},
		"error too long": &Error{Code: 1, Msg: strings.Repeat("x", MaxErrorMsg+1)},
		"error not utf8": &Error{Code: 1, Msg: "\xff"},
		"sync_req empty": &SyncReq{},
		"delta empty":    &Delta{},
		"delta gap":      &Delta{Events: []*event.Event{log[0].events[0], log[0].events[2]}},
		"delta seal":     &Delta{Events: log[0].events[:2], Seal: log[0].seal},
		"delta origins":  &Delta{Events: []*event.Event{log[0].events[0], buildLog(t, newOrigin(t, 10), 2, 2, 40, 0)[0].events[1]}},
	} {
		if _, err := AppendFrame(nil, m); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadFrameErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := ReadFrame(failingReader{boom}); !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Fatalf("reader failure: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(nil)); err != io.EOF {
		t.Fatalf("empty stream: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{Version})); !errors.Is(err, ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut header: %v", err)
	}
}

// A peer that declares a 16 MiB frame and sends a few bytes costs little.
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	b := binary.AppendUvarint([]byte{Version, byte(TypeDelta)}, MaxFrame)
	b = append(b, 1, 2, 3)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadFrame(bytes.NewReader(b))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > readChunk+64<<10 { // not the 16 MiB declared
		t.Fatalf("allocated %d bytes for a 3-byte payload", n)
	}
}
