package store

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
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

// TestEncodedSizeBoundsLocalEvents: the room the writer reserves for a
// group of local inputs covers the record it builds, whatever the
// inputs' timestamps, types and blobs, so the record is built in one
// buffer instead of growing it.
func TestEncodedSizeBoundsLocalEvents(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir(), newKey(t, 7)))
	defer s.Close()
	blobs := []cid.Cid{blobCID(t, "a"), blobCID(t, "b")}
	in := []event.Input{
		{Type: "t", Schema: 1, Payload: []byte(`{}`)},
		{Type: strings.Repeat("y", event.MaxTypeLen), Schema: 1 << 30, Payload: []byte(`{"value":-1e300}`), HasTS: true, TS: math.MinInt64},
		{Type: "b", Schema: 1, Payload: []byte(`{"v":"` + strings.Repeat("z", 5000) + `"}`), Blobs: blobs, HasTS: true, TS: math.MaxInt64},
	}
	for i := range 300 {
		in = append(in, event.Input{Type: "m", Schema: 1, Payload: []byte(`{"value":` + strings.Repeat("9", 1+i%17) + `}`)})
	}
	reqs := []*request{{inputs: in}}
	bound := encodedSize(reqs, s.Origin())
	acks := ingest(t, s, in)
	actual := 10 + event.MaxSealLen + 2 // the seal count and the seal
	for i, a := range acks {
		e, err := s.Get(crdt.Dot{Origin: a.DeviceID, Seq: a.Seq})
		if err != nil {
			t.Fatal(err)
		}
		n := len(e.AppendBinary(nil))
		if one := localSize(&in[i], s.Origin()); one < n {
			t.Fatalf("input %d: bound %d below its encoding's %d bytes", i, one, n)
		}
		actual += n + 3
	}
	if bound < actual {
		t.Fatalf("reserved %d bytes for a record of %d", bound, actual)
	}
}
