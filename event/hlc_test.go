package event

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"
	"pgregory.net/rapid"
)

func TestParseHLC(t *testing.T) {
	tests := []struct {
		in   string
		want HLC
		ok   bool
	}{
		{"1764081234567.0003", HLC{1764081234567, 3}, true},
		{"1764081234567.3", HLC{1764081234567, 3}, true},
		{"1764081234567.4095", HLC{1764081234567, 4095}, true},
		{"1764081234567", HLC{1764081234567, 0}, true},
		{"0", HLC{}, true},
		{"0.0", HLC{}, true},
		{"281474976710655.4095", HLC{MaxHLCMillis, MaxHLCCounter}, true},
		{"2025-11-25T14:33:54.567Z", HLC{1764081234567, 0}, true},
		{"2025-11-25T15:33:54.567+01:00", HLC{1764081234567, 0}, true},
		{"1970-01-01T00:00:00Z", HLC{}, true},
		{"", HLC{}, false},
		{"1764081234567.4096", HLC{}, false},  // counter beyond 12 bits
		{"1764081234567.00001", HLC{}, false}, // counter of 5 digits
		{"1764081234567.", HLC{}, false},
		{".5", HLC{}, false},
		{"-5", HLC{}, false},
		{"+5", HLC{}, false},
		{"5.-1", HLC{}, false},
		{"281474976710656", HLC{}, false},  // beyond 48 bits
		{"9999999999999999", HLC{}, false}, // 16 digits
		{"1e3", HLC{}, false},
		{"1969-12-31T23:59:59Z", HLC{}, false},
		{"2025-11-25", HLC{}, false},
		{"5.5.5", HLC{}, false},
		{" 5", HLC{}, false},
	}
	for _, tt := range tests {
		got, err := ParseHLC(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseHLC(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseHLC(%q): error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
}

func TestHLCString(t *testing.T) {
	for h, want := range map[HLC]string{
		{}:                            "0.0000",
		{1764081234567, 3}:            "1764081234567.0003",
		{1764081234567, 4095}:         "1764081234567.4095",
		{MaxHLCMillis, MaxHLCCounter}: "281474976710655.4095",
	} {
		if got := h.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", h, got, want)
		}
	}
}

// genHLC draws any valid HLC, biased towards a few milliseconds so that
// equal milliseconds and counters come up.
var genHLC = rapid.Custom(func(t *rapid.T) HLC {
	ms := rapid.OneOf(rapid.Int64Range(0, 3), rapid.Int64Range(0, MaxHLCMillis)).Draw(t, "ms")
	c := rapid.OneOf(rapid.Uint16Range(0, 2), rapid.Uint16Range(MaxHLCCounter-1, MaxHLCCounter), rapid.Uint16Range(0, MaxHLCCounter)).Draw(t, "counter")
	return HLC{MS: ms, Counter: c}
})

func TestHLCLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genHLC.Draw(t, "a"), genHLC.Draw(t, "b")
		p, err := ParseHLC(a.String())
		if err != nil || p != a {
			t.Fatalf("ParseHLC(%q) = %v, %v", a.String(), p, err)
		}
		ab, bb := a.Bytes(), b.Bytes()
		if got := bytes.Compare(ab[:], bb[:]); got != a.Compare(b) {
			t.Fatalf("byte order %d, Compare %d for %v, %v", got, a.Compare(b), a, b)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("Compare not antisymmetric for %v, %v", a, b)
		}
		id := NewID(a.MS, a.Counter, [8]byte{})
		if HLCOf(id) != a || !bytes.Equal(id[:8], ab[:]) {
			t.Fatalf("HLCOf(NewID(%v)) = %v, id %x", a, HLCOf(id), id[:8])
		}
	})
}

// TestHLCClock checks the hybrid logical clock laws over any interleaving
// of local events (Next at a clock that jumps around) and received stamps
// (Observe, some within the skew bound and some beyond it):
//   - every id issued is a valid UUIDv7 above every id issued before;
//   - every id issued is above every stamp the clock followed;
//   - a stamp is followed exactly when it is within maxAhead of now, and
//     one that is not leaves the clock where it was;
//   - the clock never runs ahead of now+maxAhead by more than the
//     milliseconds borrowed when a counter was exhausted.
func TestHLCClock(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var g IDGen
		maxAhead := rapid.Int64Range(0, 100).Draw(t, "maxAhead")
		now := rapid.Int64Range(0, 1000).Draw(t, "start")
		var last uuid.UUID
		var followed HLC // greatest stamp followed
		issued, maxNow := 0, now
		for i := range rapid.IntRange(1, 300).Draw(t, "ops") {
			now += rapid.Int64Range(-20, 20).Draw(t, "step")
			now = max(now, 0)
			maxNow = max(maxNow, now)
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0, 1: // local events, sometimes many in one millisecond
				for range rapid.SampledFrom([]int{1, 2, 5000}).Draw(t, "burst") {
					id := g.Next(now)
					issued++
					if id.Version() != 7 || id.Variant() != uuid.RFC4122 {
						t.Fatalf("op %d: %s is not a UUIDv7", i, id)
					}
					if bytes.Compare(id[:], last[:]) <= 0 && issued > 1 {
						t.Fatalf("op %d: id %s not above the previous %s", i, id, last)
					}
					if HLCOf(id).Compare(followed) <= 0 {
						t.Fatalf("op %d: id %v not above followed stamp %v", i, HLCOf(id), followed)
					}
					if HLCOf(id) != g.Last() {
						t.Fatalf("op %d: Last %v is not the id just issued %v", i, g.Last(), HLCOf(id))
					}
					last = id
				}
			case 2: // a stamp from a peer, near our clock or far ahead
				h := HLC{
					MS:      now + rapid.Int64Range(-50, 2*maxAhead+50).Draw(t, "offset"),
					Counter: rapid.SampledFrom([]uint16{0, 1, MaxHLCCounter}).Draw(t, "counter"),
				}
				h.MS = max(h.MS, 0)
				before := g.Last()
				ok := g.Observe(h, now, maxAhead)
				if want := h.MS <= now+maxAhead; ok != want {
					t.Fatalf("op %d: Observe(%v, now %d, maxAhead %d) = %v", i, h, now, maxAhead, ok)
				}
				switch {
				case !ok && g.Last() != before:
					t.Fatalf("op %d: refused stamp %v moved the clock from %v to %v", i, h, before, g.Last())
				case ok && g.Last().Compare(h) < 0:
					t.Fatalf("op %d: clock %v behind followed stamp %v", i, g.Last(), h)
				case ok && h.Compare(followed) > 0:
					followed = h
				}
			}
			if borrowed := int64(issued/(MaxHLCCounter+1)) + 1; g.Last().MS > maxNow+maxAhead+borrowed {
				t.Fatalf("op %d: clock %v beyond max now %d + bound %d + %d borrowed", i, g.Last(), maxNow, maxAhead, borrowed)
			}
		}
	})
}

func TestHLCObserveNearEndOfTime(t *testing.T) {
	var g IDGen
	// A huge bound cannot take the clock to the last millisecond, where a
	// borrow would overflow the 48-bit field.
	if g.Observe(HLC{MS: MaxHLCMillis, Counter: MaxHLCCounter}, MaxHLCMillis, MaxHLCMillis) {
		t.Fatal("followed a stamp at the last millisecond")
	}
	if !g.Observe(HLC{MS: MaxHLCMillis - 1, Counter: MaxHLCCounter}, MaxHLCMillis, MaxHLCMillis) {
		t.Fatal("did not follow a stamp one millisecond before the end")
	}
	id := g.Next(0)
	if h := HLCOf(id); h != (HLC{MS: MaxHLCMillis, Counter: 0}) || id.Version() != 7 {
		t.Fatalf("after the last full millisecond: %v (%s)", h, id)
	}
}
