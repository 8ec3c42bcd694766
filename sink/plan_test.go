package sink

import (
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestPlan(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	lim := Limits{Rows: 100, Age: 30 * time.Second}
	old, fresh := now.Add(-31*time.Second), now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		o    Origin
		want []Task
		wake time.Time
	}{
		{"nothing held", Origin{Device: "a"}, nil, time.Time{}},
		{"all archived", Origin{Device: "a", Archived: 50, Held: 50, Oldest: old}, nil, time.Time{}},
		{"young and small waits", Origin{Device: "a", Archived: 10, Held: 20, Oldest: fresh}, nil, fresh.Add(30 * time.Second)},
		{"old closes", Origin{Device: "a", Archived: 10, Held: 20, Oldest: old}, []Task{{"a", 11, 20}}, time.Time{}},
		{"exactly the age closes", Origin{Device: "a", Archived: 10, Held: 20, Oldest: now.Add(-30 * time.Second)}, []Task{{"a", 11, 20}}, time.Time{}},
		{"full closes young", Origin{Device: "a", Archived: 10, Held: 110, Oldest: fresh}, []Task{{"a", 11, 110}}, time.Time{}},
		{"backlog takes rows", Origin{Device: "a", Held: 1000, Oldest: fresh}, []Task{{"a", 1, 100}}, time.Time{}},
		{"stops before covered", Origin{Device: "a", Archived: 10, Held: 500, Covered: 51, Oldest: fresh}, []Task{{"a", 11, 50}}, time.Time{}},
		{"gap fill needs not wait", Origin{Device: "a", Archived: 10, Held: 15, Covered: 16, Oldest: fresh}, []Task{{"a", 11, 15}}, time.Time{}},
		{"partial gap waits", Origin{Device: "a", Archived: 10, Held: 14, Covered: 16, Oldest: fresh}, nil, fresh.Add(30 * time.Second)},
		{"backoff defers", Origin{Device: "a", Archived: 10, Held: 500, Oldest: old, NotBefore: now.Add(time.Second)}, nil, now.Add(time.Second)},
		{"backoff over", Origin{Device: "a", Archived: 10, Held: 20, Oldest: old, NotBefore: now}, []Task{{"a", 11, 20}}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, wake := Plan([]Origin{tc.o}, lim, now)
			if !reflect.DeepEqual(got, tc.want) || !wake.Equal(tc.wake) {
				t.Fatalf("Plan = %v, wake %v; want %v, %v", got, wake, tc.want, tc.wake)
			}
		})
	}
}

// TestPlanLaws checks, for arbitrary origins, that every task starts right
// after the watermark, is non-empty and at most Rows long, ends at or
// below what is held and below what the bucket covers, and that an origin
// is left waiting only while it is small, young and not deferred past now,
// with the wake time its due time.
func TestPlanLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		now := time.UnixMilli(1_700_000_000_000)
		lim := Limits{Rows: rapid.Uint64Range(1, 50).Draw(t, "rows"), Age: time.Duration(rapid.IntRange(1, 60).Draw(t, "age")) * time.Second}
		n := rapid.IntRange(0, 8).Draw(t, "n")
		var origins []Origin
		for i := 0; i < n; i++ {
			o := Origin{Device: string(rune('a' + i))}
			o.Archived = rapid.Uint64Range(0, 100).Draw(t, "archived")
			o.Held = rapid.Uint64Range(0, 200).Draw(t, "held")
			if rapid.Bool().Draw(t, "covered") {
				o.Covered = o.Archived + rapid.Uint64Range(2, 100).Draw(t, "gap")
			}
			o.Oldest = now.Add(-time.Duration(rapid.IntRange(0, 120).Draw(t, "age")) * time.Second)
			if rapid.Bool().Draw(t, "deferred") {
				o.NotBefore = now.Add(time.Duration(rapid.IntRange(-5, 5).Draw(t, "defer")) * time.Second)
			}
			origins = append(origins, o)
		}
		tasks, wake := Plan(origins, lim, now)
		byDev := map[string]Task{}
		for _, tk := range tasks {
			byDev[tk.Device] = tk
		}
		for _, o := range origins {
			tk, ok := byDev[o.Device]
			end := o.Held
			if o.Covered > 0 {
				end = min(end, o.Covered-1)
			}
			if !ok {
				waiting := end > o.Archived
				if waiting && !now.Before(o.NotBefore) && (end-o.Archived >= lim.Rows || o.Covered > 0 && o.Held >= o.Covered-1 || !now.Before(o.Oldest.Add(lim.Age))) {
					t.Fatalf("%+v is due but got no task", o)
				}
				if waiting && wake.IsZero() {
					t.Fatalf("%+v waits but no wake time", o)
				}
				continue
			}
			if tk.First != o.Archived+1 || tk.Last < tk.First || tk.Last > end || tk.Last-tk.First+1 > lim.Rows {
				t.Fatalf("task %+v for %+v (rows %d)", tk, o, lim.Rows)
			}
			if now.Before(o.NotBefore) {
				t.Fatalf("task for deferred %+v", o)
			}
		}
		if !wake.IsZero() && !wake.After(now) {
			t.Fatalf("wake %v not after now", wake)
		}
	})
}
