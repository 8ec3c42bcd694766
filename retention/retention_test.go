package retention

import (
	"maps"
	"math"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		want Plan
	}{
		{
			name: "nothing archived: nothing goes, however old",
			in:   Input{Origins: map[string]Origin{"a": {Max: 100, Aged: 100}}},
			want: Plan{Below: map[string]uint64{}, Unarchived: 100},
		},
		{
			name: "old and archived events go; young or unarchived ones stay",
			in: Input{Origins: map[string]Origin{
				"a": {Max: 100, Archived: 80, Aged: 50},  // age limits
				"b": {Max: 100, Archived: 30, Aged: 90},  // archive limits
				"c": {Max: 100, Archived: 100, Aged: 0},  // all young
				"d": {Max: 40, Archived: 100, Aged: 100}, // archive beyond what is held
			}},
			want: Plan{Below: map[string]uint64{"a": 50, "b": 30, "d": 40}, Events: 120, Unarchived: 20 + 70},
		},
		{
			name: "the floor only moves up",
			in:   Input{Origins: map[string]Origin{"a": {Floor: 60, Max: 100, Archived: 80, Aged: 50}}},
			want: Plan{Below: map[string]uint64{}, Unarchived: 20},
		},
		{
			name: "the stable watermark counts only when opted in",
			in:   Input{Origins: map[string]Origin{"a": {Max: 100, Archived: 10, Stable: 70, Aged: 100}}},
			want: Plan{Below: map[string]uint64{"a": 10}, Events: 10, Unarchived: 90},
		},
		{
			name: "when all have",
			in:   Input{WhenAllHave: true, Origins: map[string]Origin{"a": {Max: 100, Archived: 10, Stable: 70, Aged: 100}}},
			want: Plan{Below: map[string]uint64{"a": 70}, Events: 70, Unarchived: 30},
		},
		{
			name: "within budget",
			in:   Input{DiskBytes: 900, MaxDisk: 1000, Origins: map[string]Origin{"a": {Max: 100, Archived: 100}}},
			want: Plan{Below: map[string]uint64{}},
		},
		{
			name: "over budget, the window frees enough (10 bytes an event)",
			in:   Input{DiskBytes: 1000, MaxDisk: 700, Origins: map[string]Origin{"a": {Max: 100, Archived: 100, Aged: 40}}},
			want: Plan{Below: map[string]uint64{"a": 40}, Events: 40, OverBytes: 300},
		},
		{
			name: "over budget, the window is too wide: short, not blocked",
			in:   Input{DiskBytes: 1000, MaxDisk: 700, Origins: map[string]Origin{"a": {Max: 100, Archived: 100, Aged: 10}}},
			want: Plan{Below: map[string]uint64{"a": 10}, Events: 10, OverBytes: 300, ShortBytes: 200},
		},
		{
			name: "over budget: the pressure window gives what is needed, in proportion",
			in: Input{DiskBytes: 1000, MaxDisk: 800, Origins: map[string]Origin{ // 10 bytes an event, 20 needed
				"a": {Max: 50, Archived: 50, Pressure: 30},
				"b": {Max: 50, Archived: 50, Pressure: 10},
			}},
			want: Plan{Below: map[string]uint64{"a": 15, "b": 5}, Events: 20, OverBytes: 200},
		},
		{
			name: "over budget: the retention window's events come first",
			in: Input{DiskBytes: 1000, MaxDisk: 800, Origins: map[string]Origin{
				"a": {Max: 50, Archived: 50, Aged: 12, Pressure: 40},
				"b": {Max: 50, Archived: 50, Aged: 0, Pressure: 40},
			}},
			want: Plan{Below: map[string]uint64{"a": 16, "b": 4}, Events: 20, OverBytes: 200},
		},
		{
			name: "over budget: rounding goes to the first origins",
			in: Input{DiskBytes: 300, MaxDisk: 280, Origins: map[string]Origin{ // 10 bytes an event, 2 needed
				"a": {Max: 10, Archived: 10, Pressure: 1},
				"b": {Max: 10, Archived: 10, Pressure: 1},
				"c": {Max: 10, Archived: 10, Pressure: 1},
			}},
			want: Plan{Below: map[string]uint64{"a": 1, "b": 1}, Events: 2, OverBytes: 20},
		},
		{
			name: "over budget and everything archived planned: blocked",
			in: Input{DiskBytes: 1000, MaxDisk: 500, Origins: map[string]Origin{
				"a": {Max: 50, Archived: 20, Aged: 50},
				"b": {Max: 50, Archived: 0, Aged: 50},
			}},
			want: Plan{Below: map[string]uint64{"a": 20}, Events: 20, OverBytes: 500, ShortBytes: 300, Blocked: true, Unarchived: 80},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.in)
			if !maps.Equal(got.Below, tc.want.Below) || got.Events != tc.want.Events || got.OverBytes != tc.want.OverBytes ||
				got.ShortBytes != tc.want.ShortBytes || got.Blocked != tc.want.Blocked || got.Unarchived != tc.want.Unarchived {
				t.Fatalf("Decide =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

// Whatever the inputs, a plan never goes above the line.
func TestDecideNeverPassesTheLine(t *testing.T) {
	for arch := uint64(0); arch < 12; arch += 3 {
		for aged := uint64(0); aged < 12; aged += 2 {
			for floor := uint64(0); floor < 6; floor++ {
				for _, all := range []bool{false, true} {
					o := Origin{Floor: floor, Max: 9, Archived: arch, Stable: 7, Aged: aged}
					p := Decide(Input{WhenAllHave: all, DiskBytes: 1 << 40, MaxDisk: 1, Origins: map[string]Origin{"x": o}})
					if b, ok := p.Below["x"]; ok && (b > Line(o, all) || b <= floor) {
						t.Fatalf("%+v (all %v): below %d", o, all, b)
					}
				}
			}
		}
	}
}

func TestWindows(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		retain time.Duration
		want   []time.Duration
	}{
		{0, []time.Duration{Forever, 365 * day, 30 * day, 7 * day, day, 6 * time.Hour, time.Hour, 10 * time.Minute, time.Minute, 0}},
		{2 * day, []time.Duration{2 * day, day, 6 * time.Hour, time.Hour, 10 * time.Minute, time.Minute, 0}},
		{time.Minute, []time.Duration{time.Minute, 0}},
		{30 * time.Second, []time.Duration{30 * time.Second, 0}},
	} {
		got := Windows(tc.retain)
		if len(got) != len(tc.want) {
			t.Fatalf("Windows(%v) = %v", tc.retain, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("Windows(%v) = %v", tc.retain, got)
			}
		}
	}
}

func TestCutoff(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		w    time.Duration
		want int64
	}{
		{Forever, math.MinInt64},
		{0, 1_700_000_000_000},
		{time.Hour, 1_700_000_000_000 - 3_600_000},
	} {
		if got := Cutoff(now, tc.w); got != tc.want {
			t.Errorf("Cutoff(%v) = %d, want %d", tc.w, got, tc.want)
		}
	}
}
