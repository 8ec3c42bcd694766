package event

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/uuid"
)

// idMS returns the 48-bit timestamp of a UUIDv7.
func idMS(u uuid.UUID) int64 {
	return int64(binary.BigEndian.Uint64(u[0:8]) >> 16)
}

// idCounter returns the 12-bit rand_a field, which IDGen uses as a counter.
func idCounter(u uuid.UUID) uint16 {
	return binary.BigEndian.Uint16(u[6:8]) & 0x0fff
}

// checkV7 fails t unless u has version 7 and the RFC 9562 variant.
func checkV7(t *testing.T, u uuid.UUID) {
	t.Helper()
	if u[6]>>4 != 7 || u.Version() != 7 {
		t.Fatalf("%s: version %d", u, u.Version())
	}
	if u[8]>>6 != 0b10 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("%s: variant bits %02b", u, u[8]>>6)
	}
}

// checkIncreasing fails t unless every id is bytewise greater than the last.
func checkIncreasing(t *testing.T, ids []uuid.UUID) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			t.Fatalf("id %d %s is not above id %d %s", i, ids[i], i-1, ids[i-1])
		}
	}
}

func TestIDGenSameMillisecond(t *testing.T) {
	const ms, n = 1_700_000_000_000, 100_000
	var g IDGen
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = g.Next(ms)
		checkV7(t, ids[i])
		// 4096 ids per millisecond, then the generator borrows the next.
		if got, want := idMS(ids[i]), int64(ms+i/4096); got != want {
			t.Fatalf("id %d: timestamp %d, want %d", i, got, want)
		}
		if got, want := idCounter(ids[i]), uint16(i%4096); got != want {
			t.Fatalf("id %d: counter %d, want %d", i, got, want)
		}
	}
	checkIncreasing(t, ids)
	seen := make(map[[8]byte]bool, n)
	for _, u := range ids {
		var r [8]byte
		copy(r[:], u[8:])
		r[0] &= 0x3f
		seen[r] = true
	}
	if len(seen) < n-1 { // 62 random bits: a collision is astronomically unlikely
		t.Fatalf("only %d distinct random parts in %d ids", len(seen), n)
	}
}

func TestIDGenClockStepsBack(t *testing.T) {
	var g IDGen
	steps := []int64{5000, 5000, 4000, 1, 0, -7, 5000, 4999, 5001, 5001, 3000, 6000}
	ids := make([]uuid.UUID, len(steps))
	for i, ms := range steps {
		ids[i] = g.Next(ms)
		checkV7(t, ids[i])
	}
	checkIncreasing(t, ids)
	for i, want := range map[int]int64{0: 5000, 2: 5000, 5: 5000, 7: 5000, 8: 5001, 10: 5001, 11: 6000} {
		if got := idMS(ids[i]); got != want {
			t.Errorf("id %d (clock %d): timestamp %d, want %d", i, steps[i], got, want)
		}
	}
	if idCounter(ids[11]) != 0 {
		t.Errorf("counter not reset when the clock moves on: %d", idCounter(ids[11]))
	}
}

func TestIDGenCounterExhaustion(t *testing.T) {
	const ms = 1_000
	var g IDGen
	var ids []uuid.UUID
	for range 4096 {
		ids = append(ids, g.Next(ms))
	}
	if idMS(ids[4095]) != ms || idCounter(ids[4095]) != 0x0fff {
		t.Fatalf("last id of the ms: %d/%d", idMS(ids[4095]), idCounter(ids[4095]))
	}
	// Exhausted: borrow ms+1, then keep counting there while the clock
	// still reads ms, then ms+1, then step back.
	for _, clock := range []int64{ms, ms, ms + 1, ms + 1, ms - 1} {
		ids = append(ids, g.Next(clock))
	}
	checkIncreasing(t, ids)
	for i, u := range ids[4096:] {
		checkV7(t, u)
		if idMS(u) != ms+1 || idCounter(u) != uint16(i) {
			t.Fatalf("id %d after exhaustion: %d/%d", i, idMS(u), idCounter(u))
		}
	}
	// The clock catching up past the borrowed ms resets the counter.
	u := g.Next(ms + 2)
	if idMS(u) != ms+2 || idCounter(u) != 0 || bytes.Compare(ids[len(ids)-1][:], u[:]) >= 0 {
		t.Fatalf("after catching up: %s", u)
	}
}

func TestIDGenTimestampBits(t *testing.T) {
	for _, ms := range []int64{1, 255, 1 << 16, 1_700_000_000_000, 1<<48 - 1} {
		var g IDGen
		u := g.Next(ms)
		checkV7(t, u)
		if idMS(u) != ms || idCounter(u) != 0 {
			t.Errorf("Next(%d): timestamp %d counter %d", ms, idMS(u), idCounter(u))
		}
		if sec, nsec := u.Time().UnixTime(); sec*1000+nsec/1e6 != ms {
			t.Errorf("Next(%d): uuid.Time gives %d.%09d s", ms, sec, nsec)
		}
	}
}

func TestNewID(t *testing.T) {
	tests := []struct {
		ms      int64
		counter uint16
		random  [8]byte
	}{
		{0, 0, [8]byte{}},
		{1_700_000_000_123, 0x0abc, [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{1<<48 - 1, 0x0fff, [8]byte{0x3f, 1, 2, 3, 4, 5, 6, 7}},
		{42, 0xf123, [8]byte{0xc0, 9, 9, 9, 9, 9, 9, 9}}, // counter bits above 12 are dropped
	}
	for _, tt := range tests {
		u := NewID(tt.ms, tt.counter, tt.random)
		checkV7(t, u)
		if idMS(u) != tt.ms || idCounter(u) != tt.counter&0x0fff {
			t.Errorf("NewID(%d, %#x): timestamp %d counter %#x", tt.ms, tt.counter, idMS(u), idCounter(u))
		}
		if u[8]&0x3f != tt.random[0]&0x3f || !bytes.Equal(u[9:], tt.random[1:]) {
			t.Errorf("NewID(%d): random bits %x, want %x", tt.ms, u[8:], tt.random)
		}
	}
}

func TestIDGenRandomRefill(t *testing.T) {
	// More ids than one buffer of randomness holds (4096/8 = 512).
	var g IDGen
	seen := make(map[[8]byte]bool)
	for i := range 2000 {
		u := g.Next(int64(i))
		var r [8]byte
		copy(r[:], u[8:])
		seen[r] = true
	}
	if len(seen) != 2000 {
		t.Fatalf("random parts repeat: %d distinct of 2000", len(seen))
	}
}
