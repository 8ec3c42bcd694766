package crdt

import (
	"cmp"
	"fmt"
	"math"
	"time"
)

// Window is the length of an aggregation window. The zero value is not a
// valid window.
type Window uint8

// The windows analytics are aggregated over.
const (
	Minute Window = iota + 1
	Hour
	Day
)

// Windows lists every window, shortest first. Aggregates keeps one Agg per
// (type, window) for each of them.
var Windows = []Window{Minute, Hour, Day}

// Duration is the window's length (time is used only as a unit); 0 for an
// invalid window.
func (w Window) Duration() time.Duration {
	switch w {
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	case Day:
		return 24 * time.Hour
	}
	return 0
}

// Valid reports whether w is one of Minute, Hour and Day.
func (w Window) Valid() bool { return w.Duration() > 0 }

// String is "1m", "1h" or "1d".
func (w Window) String() string {
	switch w {
	case Minute:
		return "1m"
	case Hour:
		return "1h"
	case Day:
		return "1d"
	}
	return fmt.Sprintf("Window(%d)", uint8(w))
}

// ParseWindow parses "1m", "1h" or "1d". Other input gives an error
// wrapping ErrInvalid.
func ParseWindow(s string) (Window, error) {
	for _, w := range Windows {
		if w.String() == s {
			return w, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown window %q (want 1m, 1h or 1d)", ErrInvalid, s)
}

// Start is the start, in epoch milliseconds, of the window that holds
// tsMillis: tsMillis rounded down (towards minus infinity, also for
// negative times) to a multiple of the window's length. Windows are aligned
// to the Unix epoch in UTC. For the partial window at the very bottom of the
// int64 range Start returns math.MinInt64; for an invalid window it returns
// tsMillis.
func (w Window) Start(tsMillis int64) int64 {
	d := w.Duration().Milliseconds()
	if d <= 0 {
		return tsMillis
	}
	r := tsMillis % d
	if r < 0 {
		r += d
	}
	if tsMillis < math.MinInt64+r {
		return math.MinInt64
	}
	return tsMillis - r
}

// AggKey names one aggregate: an event type, a window length and the
// window's start in epoch milliseconds.
type AggKey struct {
	Type   string
	Window Window
	Start  int64
}

// Compare orders keys by type, window, then start: -1, 0 or +1.
func (k AggKey) Compare(o AggKey) int {
	if c := cmp.Compare(k.Type, o.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Window, o.Window); c != 0 {
		return c
	}
	return cmp.Compare(k.Start, o.Start)
}

// String formats k as type/window/start.
func (k AggKey) String() string { return fmt.Sprintf("%s/%s/%d", k.Type, k.Window, k.Start) }
