package event

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Limits of an HLC's two parts.
const (
	MaxHLCMillis  = 1<<48 - 1 // the 48-bit unix_ts_ms field of a UUIDv7
	MaxHLCCounter = 0x0fff    // the 12-bit rand_a field IDGen uses as a counter
)

// HLC is a hybrid logical clock timestamp: a physical part in epoch
// milliseconds and a logical counter that orders stamps within one
// millisecond. An event's HLC is the first 8 bytes of its UUIDv7 id
// (unix_ts_ms, version, rand_a used as a counter, RFC 9562 §6.2 method 1),
// so every replica reads the same HLC from the event itself, and the byte
// order of ids is the order of their HLCs. The zero value is the smallest
// stamp.
type HLC struct {
	MS      int64  // physical part, epoch milliseconds, 0 to MaxHLCMillis
	Counter uint16 // logical part, 0 to MaxHLCCounter
}

// HLCOf returns the HLC of an event id issued by IDGen.
func HLCOf(id uuid.UUID) HLC {
	return HLC{MS: int64(binary.BigEndian.Uint64(id[0:8]) >> 16), Counter: binary.BigEndian.Uint16(id[6:8]) & MaxHLCCounter}
}

// Compare returns -1, 0 or +1 as h is before, equal to or after o.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.MS < o.MS:
		return -1
	case h.MS > o.MS:
		return 1
	case h.Counter < o.Counter:
		return -1
	case h.Counter > o.Counter:
		return 1
	}
	return 0
}

// Bytes returns the 8 bytes an event id with this HLC starts with.
func (h HLC) Bytes() [8]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h.MS)<<16|0x7000|uint64(h.Counter&MaxHLCCounter))
	return b
}

// String returns the text form "<ms>.<counter>", the counter as four
// digits (1764081234567.0003), so that stamps of the same era sort as text.
func (h HLC) String() string {
	b := strconv.AppendInt(make([]byte, 0, 24), h.MS, 10)
	b = append(b, '.')
	for d := uint16(1000); d > 1 && h.Counter < d; d /= 10 {
		b = append(b, '0')
	}
	return string(strconv.AppendUint(b, uint64(h.Counter), 10))
}

// MarshalText implements encoding.TextMarshaler with String's form.
func (h HLC) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// ParseHLC reads an HLC written as "<ms>.<counter>" (what String writes;
// the counter 1 to 4 digits, at most MaxHLCCounter), as bare epoch
// milliseconds, or as an RFC 3339 time; the last two have counter 0, the
// earliest stamp of that millisecond.
func ParseHLC(s string) (HLC, error) {
	if s == "" {
		return HLC{}, fmt.Errorf("%w: empty HLC", ErrInvalid)
	}
	msText, counterText, dotted := strings.Cut(s, ".")
	if ms, ok := parseDigits(msText, 15); ok {
		h := HLC{MS: ms}
		if dotted {
			c, ok := parseDigits(counterText, 4)
			if !ok || c > MaxHLCCounter {
				return HLC{}, fmt.Errorf("%w: HLC %q: counter is not an integer from 0 to %d", ErrInvalid, s, MaxHLCCounter)
			}
			h.Counter = uint16(c)
		}
		if ms > MaxHLCMillis {
			return HLC{}, fmt.Errorf("%w: HLC %q: milliseconds beyond %d", ErrInvalid, s, int64(MaxHLCMillis))
		}
		return h, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return HLC{}, fmt.Errorf("%w: HLC %q is neither <ms>.<counter>, epoch milliseconds nor an RFC 3339 time", ErrInvalid, s)
	}
	ms := t.UnixMilli()
	if ms < 0 || ms > MaxHLCMillis {
		return HLC{}, fmt.Errorf("%w: HLC %q is outside 1970 to year 10889", ErrInvalid, s)
	}
	return HLC{MS: ms}, nil
}

// parseDigits parses 1 to max ASCII digits, nothing else (no sign).
func parseDigits(s string, max int) (int64, bool) {
	if len(s) == 0 || len(s) > max {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
