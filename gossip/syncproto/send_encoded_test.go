package syncproto

import (
	"bytes"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// TestEncodedDeltaSameBytes: a DELTA built from a replica's stored
// encodings is byte for byte the one Delta.encode builds from its decoded events, for
// whole and redacted events, every window and both protocol versions.
func TestEncodedDeltaSameBytes(t *testing.T) {
	o := newOrigin(t, 4100)
	r, _ := redactedHome(t, o, 3, 15, 40)
	for _, v := range []uint8{Version1, Version2} {
		for from := uint64(1); from <= 60; from++ {
			for _, max := range []int{1, 500, 1 << 20} {
				events, seal, err := r.ReadRun(o.id, from, from+7, max)
				if err != nil {
					t.Fatal(err)
				}
				encs := make([]event.Encoded, len(events))
				for i, e := range events {
					encs[i] = event.Encoded{Seq: e.Seq, Bytes: e.AppendBinary(nil)}
				}
				want, werr := (&Delta{Events: events, Seal: seal}).encode(nil, nil, v)
				got, gerr := newEncodedDelta(nil, encs, seal, v)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("v%d from %d max %d: errors %v and %v", v, from, max, werr, gerr)
				}
				if werr == nil && !bytes.Equal(want, got.enc) {
					t.Fatalf("v%d from %d max %d: payloads differ", v, from, max)
				}
			}
		}
	}
}

// TestCheckReadEncoded rejects what a replica must never return.
func TestCheckReadEncoded(t *testing.T) {
	o := newOrigin(t, 4101)
	enc := []byte{1, 2}
	seal := &event.Seal{Origin: o.id, Seq: 2}
	cases := []struct {
		name string
		encs []event.Encoded
		seal *event.Seal
		ok   bool
	}{
		{"contiguous", []event.Encoded{{Seq: 1, Bytes: enc}, {Seq: 2, Bytes: enc}}, seal, true},
		{"unsealed", []event.Encoded{{Seq: 1, Bytes: enc}}, nil, true},
		{"empty", nil, nil, false},
		{"gap", []event.Encoded{{Seq: 1, Bytes: enc}, {Seq: 3, Bytes: enc}}, nil, false},
		{"wrong start", []event.Encoded{{Seq: 2, Bytes: enc}}, seal, false},
		{"no bytes", []event.Encoded{{Seq: 1}}, nil, false},
		{"seal elsewhere", []event.Encoded{{Seq: 1, Bytes: enc}}, seal, false},
	}
	for _, c := range cases {
		if err := checkReadEncoded(o.id, 1, c.encs, c.seal); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
