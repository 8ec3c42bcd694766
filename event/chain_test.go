package event

import (
	"encoding/json"
	"testing"
)

func TestVerifyRangeValid(t *testing.T) {
	key, origin := testKey(t, 10)
	all, _ := buildChain(t, key, origin, 14)

	t.Run("from seq 1", func(t *testing.T) {
		events, seal := buildChain(t, key, origin, 10)
		head, err := VerifyRange(Hash{}, events, &seal)
		if err != nil {
			t.Fatal(err)
		}
		if head != events[9].Hash() || head != seal.Head {
			t.Fatalf("head %s, want %s", head, events[9].Hash())
		}
	})
	t.Run("from seq 5", func(t *testing.T) {
		events := all[4:14]
		if events[0].Seq != 5 || len(events) != 10 {
			t.Fatal("bad slice")
		}
		seal, err := NewSeal(key, origin, 14, all[13].Hash())
		if err != nil {
			t.Fatal(err)
		}
		head, err := VerifyRange(all[3].Hash(), events, &seal)
		if err != nil {
			t.Fatal(err)
		}
		if head != all[13].Hash() {
			t.Fatal("wrong head")
		}
	})
	t.Run("single event", func(t *testing.T) {
		seal, err := NewSeal(key, origin, 1, all[0].Hash())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyRange(Hash{}, all[:1], &seal); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("seal round trip", func(t *testing.T) {
		events, seal := buildChain(t, key, origin, 3)
		var decoded Seal
		if err := decoded.UnmarshalBinary(seal.AppendBinary(nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyRange(Hash{}, events, &decoded); err != nil {
			t.Fatal(err)
		}
	})
}

func TestVerifyRangeRejects(t *testing.T) {
	key, origin := testKey(t, 11)
	otherKey, otherOrigin := testKey(t, 12)
	events, seal := buildChain(t, key, origin, 10)
	others, _ := buildChain(t, otherKey, otherOrigin, 10)

	sealFor := func(k Signer, origin string, seq uint64, head Hash) *Seal {
		s, err := NewSeal(k, origin, seq, head)
		if err != nil {
			t.Fatal(err)
		}
		return &s
	}
	with := func(i int, f func(*Event)) []*Event {
		out := append([]*Event(nil), events...)
		out[i] = clone(events[i])
		f(out[i])
		return out
	}
	without := func(i int) []*Event {
		return append(append([]*Event(nil), events[:i]...), events[i+1:]...)
	}
	head := events[9].Hash()
	tests := []struct {
		name   string
		prev   Hash
		events []*Event
		seal   *Seal
		want   string
	}{
		{"empty range", Hash{}, nil, &seal, "empty"},
		{"broken link", Hash{}, with(3, func(e *Event) { e.Prev[0] ^= 1 }), &seal, "chain broken"},
		{"edited middle event", Hash{}, with(4, func(e *Event) { e.Payload = json.RawMessage(`{"i":99}`) }), &seal, "chain broken"},
		{"edited last event", Hash{}, with(9, func(e *Event) { e.TS++ }), &seal, "no seal"},
		{"gap", Hash{}, without(4), &seal, "not contiguous"},
		{"duplicate", Hash{}, append(append([]*Event(nil), events[:5]...), events[4:]...), &seal, "not contiguous"},
		{"swapped", Hash{}, append([]*Event{events[0], events[2], events[1]}, events[3:]...), &seal, "not contiguous"},
		{"starts at seq 2", Hash{}, events[1:], &seal, "does not follow"},
		{"mixed origins", Hash{}, append(append([]*Event(nil), events[:5]...), others[5:]...), &seal, "not contiguous"},
		{"other origin's seq", Hash{}, with(5, func(e *Event) { e.Device = otherOrigin }), &seal, "not contiguous"},
		{"wrong prev", Hash{1}, events, &seal, "does not follow"},
		{"missing prefix, zero prev", Hash{}, events[4:], sealFor(key, origin, 10, head), "does not follow"},
		{"missing prefix, wrong prev", events[2].Hash(), events[4:], sealFor(key, origin, 10, head), "chain broken"},
		{"nil seal", Hash{}, events, nil, "no seal"},
		{"seal for earlier seq", Hash{}, events, sealFor(key, origin, 9, events[8].Hash()), "no seal"},
		{"seal for later seq", Hash{}, events[:9], &seal, "no seal"},
		{"seal with wrong head", Hash{}, events, sealFor(key, origin, 10, events[8].Hash()), "no seal"},
		{"seal from other origin", Hash{}, events, sealFor(otherKey, otherOrigin, 10, head), "no seal"},
		{"forged seal", Hash{}, events, sealFor(otherKey, origin, 10, head), "bad seal signature"},
		{"bad signature", Hash{}, events, &Seal{Origin: origin, Seq: 10, Head: head, Sig: make([]byte, 64)}, "bad seal signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyRange(tt.prev, tt.events, tt.seal)
			wantInvalid(t, err, tt.want)
			if got != tt.prev {
				t.Fatalf("returned %s on error, want prev", got)
			}
		})
	}
}

// TestVerifyRangeRejectsForgedChain re-signs a whole chain that claims to
// come from an origin whose key the forger does not hold.
func TestVerifyRangeRejectsForgedChain(t *testing.T) {
	_, victim := testKey(t, 13)
	forger, _ := testKey(t, 14)
	events, seal := buildChain(t, forger, victim, 10)
	if _, err := VerifyRange(Hash{}, events, &seal); err == nil {
		t.Fatal("chain sealed by another key verified")
	}
}

// TestVerifyRangeZeroPrevAfterFirst covers an origin that sealed a chain
// starting at seq 5 with a zero Prev: VerifyRange must not take it as the
// start of the log.
func TestVerifyRangeZeroPrevAfterFirst(t *testing.T) {
	key, origin := testKey(t, 15)
	e := &Event{ID: testID(5), Device: origin, Seq: 5, Type: "x", Payload: json.RawMessage(`{}`)}
	seal, err := NewSeal(key, origin, 5, e.Hash())
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, e.Validate(), "predecessor")
	_, err = VerifyRange(Hash{}, []*Event{e}, &seal)
	wantInvalid(t, err, "does not follow")
}
