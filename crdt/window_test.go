package crdt

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestWindowStart(t *testing.T) {
	const minute, hour, day = 60_000, 3_600_000, 86_400_000
	tests := []struct {
		w    Window
		ts   int64
		want int64
	}{
		{Minute, 0, 0},
		{Minute, 59_999, 0},
		{Minute, 60_000, minute},
		{Minute, 1_700_000_123_456, 1_700_000_100_000},
		{Minute, -1, -minute},
		{Minute, -60_000, -minute},
		{Minute, -60_001, -2 * minute},
		{Hour, 7_199_999, hour},
		{Hour, -1, -hour},
		{Day, 1_700_000_123_456, 1_699_920_000_000},
		{Day, -day - 1, -2 * day},
		{Day, math.MaxInt64, math.MaxInt64 - math.MaxInt64%day},
		{Minute, math.MinInt64, math.MinInt64},
		{Window(0), 1234, 1234},
	}
	for _, tt := range tests {
		if got := tt.w.Start(tt.ts); got != tt.want {
			t.Errorf("%v.Start(%d) = %d, want %d", tt.w, tt.ts, got, tt.want)
		}
	}
}

func TestWindowNames(t *testing.T) {
	for _, tt := range []struct {
		w    Window
		name string
		d    time.Duration
	}{{Minute, "1m", time.Minute}, {Hour, "1h", time.Hour}, {Day, "1d", 24 * time.Hour}} {
		if tt.w.String() != tt.name || tt.w.Duration() != tt.d || !tt.w.Valid() {
			t.Errorf("%d: %s %v", tt.w, tt.w.String(), tt.w.Duration())
		}
		if w, err := ParseWindow(tt.name); err != nil || w != tt.w {
			t.Errorf("ParseWindow(%q) = %v, %v", tt.name, w, err)
		}
	}
	for _, bad := range []string{"", "1s", "60m", "1M", "1h "} {
		if _, err := ParseWindow(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseWindow(%q) err = %v", bad, err)
		}
	}
	if Window(9).Valid() || Window(9).String() != "Window(9)" {
		t.Errorf("invalid window: %v", Window(9))
	}
}

func TestAggKeyCompare(t *testing.T) {
	keys := []AggKey{{"a", Minute, 5}, {"a", Minute, 6}, {"a", Hour, 0}, {"b", Minute, -1}}
	for i := range keys {
		for j := range keys {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := keys[i].Compare(keys[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", keys[i], keys[j], got, want)
			}
		}
	}
}
