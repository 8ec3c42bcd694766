package event

import (
	"bytes"
	"testing"
)

func TestErased(t *testing.T) {
	e := sampleEvent(t)
	enc := e.AppendBinary(nil)
	out, changed, err := Erased(enc)
	if err != nil || !changed || len(out) != len(enc) {
		t.Fatalf("changed %v, %d bytes for %d, %v", changed, len(out), len(enc), err)
	}
	got, err := Decode(out)
	if err != nil {
		t.Fatalf("erased encoding does not decode: %v", err)
	}
	if bytes.Contains(out, e.Payload[1:len(e.Payload)-1]) || string(got.Payload) != "{"+string(bytes.Repeat([]byte(" "), len(e.Payload)-2))+"}" {
		t.Fatalf("payload left: %q", got.Payload)
	}
	for i, c := range got.Blobs {
		if c == e.Blobs[i] || bytes.Contains(out, e.Blobs[i].Hash()[2:]) {
			t.Fatalf("blob %d digest left", i)
		}
	}
	if got.Hash() == e.Hash() || got.ID != e.ID || got.Prev != e.Prev {
		t.Fatal("erasure changed the header or kept the hash")
	}
	if _, changed, err := Erased(out); err != nil || changed {
		t.Fatalf("erasing twice: changed %v, %v", changed, err)
	}
	key, _ := testKey(t, 41)
	r, err := NewRedaction(key, e.Device, e, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !r.MatchesErased(got) || r.MatchesErased(e) {
		t.Fatal("MatchesErased does not tell the erased form from the original")
	}
	key, origin := testKey(t, 40)
	chain, _ := buildChain(t, key, origin, 1)
	r, _ = NewRedaction(key, origin, chain[0], 1)
	if _, changed, err := Erased(r.Stub().AppendBinary(nil)); err != nil || changed {
		t.Fatalf("a redacted event: changed %v, %v", changed, err)
	}
}
