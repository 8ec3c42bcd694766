package api

import (
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

const testDevice = "12D3KooWLRPJAA5o6Gj3SDbvvwxWxpKJqpgqsCmXD3FoSbT9ZtYT"

func TestCursorRoundTrip(t *testing.T) {
	for _, p := range []store.TimePos{
		{HLC: event.HLC{}, Device: testDevice, Seq: 1},
		{HLC: event.HLC{MS: 1_764_081_234_567, Counter: 3}, Device: testDevice, Seq: 1 << 40},
		{HLC: event.HLC{MS: event.MaxHLCMillis, Counter: event.MaxHLCCounter}, Device: testDevice, Seq: ^uint64(0)},
	} {
		c := encodeCursor(p)
		got, err := decodeCursor(c)
		if err != nil || got != p {
			t.Errorf("decodeCursor(encodeCursor(%+v)) = %+v, %v", p, got, err)
		}
	}
}

func TestCursorRejects(t *testing.T) {
	good := encodeCursor(store.TimePos{HLC: event.HLC{MS: 5, Counter: 1}, Device: testDevice, Seq: 9})
	for name, c := range map[string]string{
		"empty":          "",
		"too long":       strings.Repeat("A", MaxCursorLen+1),
		"padded":         good + "=",
		"std alphabet":   strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+",
		"truncated":      good[:len(good)-3],
		"not base64":     "!!!!",
		"other version":  "Ag" + good[2:],
		"seq 0":          encodeCursor(store.TimePos{Device: testDevice, Seq: 0}),
		"not a device":   encodeCursor(store.TimePos{Device: "nope", Seq: 1}),
		"empty device":   encodeCursor(store.TimePos{Seq: 1}),
		"trailing space": good + " ",
	} {
		if _, err := decodeCursor(c); err == nil {
			t.Errorf("%s: cursor %q accepted", name, c)
		}
	}
}

// FuzzCursor decodes arbitrary text: a cursor is accepted only if it is
// exactly what encodeCursor writes for the position it decodes to.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(store.TimePos{HLC: event.HLC{MS: 1_764_081_234_567, Counter: 3}, Device: testDevice, Seq: 42}))
	f.Add("AQGLz-VoB3AHAQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeCursor(s)
		if err != nil {
			return
		}
		if encodeCursor(p) != s || p.Seq == 0 || p.HLC.MS > event.MaxHLCMillis || p.HLC.Counter > event.MaxHLCCounter {
			t.Fatalf("accepted %q as %+v, which encodes as %q", s, p, encodeCursor(p))
		}
	})
}
