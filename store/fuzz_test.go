package store

import (
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// FuzzParseRecord feeds arbitrary bytes to the segment record decoder: it
// never panics, and what it accepts holds only valid events.
func FuzzParseRecord(f *testing.F) {
	k := newKey(f, 1)
	var rb recordBuilder
	rb.reset(0)
	e := &event.Event{ID: event.NewID(1, 0, [8]byte{}), Device: k.origin, Seq: 1, TS: 1, Type: "t", Schema: 1, Payload: []byte(`{}`)}
	rb.addEvent(e, true)
	seal, _ := event.NewSeal(k.key, k.origin, 1, e.Hash())
	f.Add(append([]byte(nil), rb.finish([]event.Seal{seal})...))
	f.Fuzz(func(t *testing.T, p []byte) {
		rec, err := parseRecord(p)
		if err != nil {
			return
		}
		for _, e := range rec.events {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted an invalid event: %v", err)
			}
		}
	})
}

// FuzzDecodeRun checks the run index decoder never panics and that what
// it accepts re-encodes identically.
func FuzzDecodeRun(f *testing.F) {
	f.Add((&run{first: 1, segment: 2, offset: 100, received: 1_700_000_000_000, lengths: []uint32{300, 301}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRun(5, b)
		if err != nil {
			return
		}
		if string(r.encode()) != string(b) {
			t.Fatalf("run %x re-encodes as %x", b, r.encode())
		}
	})
}

// FuzzDecodeRunV1 checks the format 1 run decoder (used by the migration)
// never panics and that what it accepts is the format 2 encoding without
// its received time.
func FuzzDecodeRunV1(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 100, 2, 0xac, 2, 0xad, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRunV1(5, b)
		if err != nil {
			return
		}
		v2 := r.encode()
		if string(append(v2[:12:12], v2[20:]...)) != string(b) {
			t.Fatalf("v1 run %x re-encodes as %x", b, v2)
		}
	})
}
