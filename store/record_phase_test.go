package store

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/rumor-sync/rumor/event"
)

// TestRecordBuilderPhase: a record built at any page phase has the same
// bytes, starts at that phase within its page, and keeps it across a
// reserve that grows the buffer and across builds that reuse it.
func TestRecordBuilderPhase(t *testing.T) {
	k := newKey(t, 6)
	evs := make([]*event.Event, 50)
	for i := range evs {
		evs[i] = &event.Event{ID: event.NewID(int64(i), 0, [8]byte{}), Device: k.origin, Seq: uint64(i + 1), TS: 1,
			Type: "t", Schema: 1, Payload: []byte(`{"value":1}`)}
	}
	build := func(rb *recordBuilder, phase, reserve int) []byte {
		rb.reset(phase)
		rb.reserve(reserve)
		for _, e := range evs {
			rb.addEvent(e, false)
		}
		rb.finish(nil)
		return rb.framed()
	}
	var ref recordBuilder
	want := bytes.Clone(build(&ref, 0, 0))
	var rb recordBuilder
	for _, c := range []struct{ phase, reserve int }{
		{0, 0}, {1, 0}, {4095, 0}, {4084, 100_000}, {100, 1 << 20}, {0, 0}, {2048, 10},
	} {
		got := build(&rb, c.phase, c.reserve)
		if !bytes.Equal(got, want) {
			t.Fatalf("phase %d: record differs", c.phase)
		}
		if p := int(uintptr(unsafe.Pointer(unsafe.SliceData(got))) % directPage); c.reserve > 0 && p != c.phase {
			t.Fatalf("phase %d, reserve %d: record starts at %d in its page", c.phase, c.reserve, p)
		}
	}
}
