package sink

import (
	"sort"
	"time"
)

// Origin is what the planner knows of one origin device.
type Origin struct {
	Device string
	// Archived is the archived watermark: every seq from 1 to Archived is
	// in a file of the bucket.
	Archived uint64
	// Held is the highest seq held here with every seq before it: the
	// events the store can hand over.
	Held uint64
	// Covered is the first seq above Archived that a file of the bucket
	// already holds (files past a gap), 0 if there is none. Nothing at or
	// past it is written again.
	Covered uint64
	// Oldest is when the event at Archived+1 arrived here (its received
	// time); it only matters when that event is held.
	Oldest time.Time
	// NotBefore defers the origin after a failure (backoff); zero: now.
	NotBefore time.Time
}

// Limits close a file.
type Limits struct {
	Rows uint64        // a file holds at most this many events; reaching it closes one
	Age  time.Duration // a file is closed once its oldest event arrived this long ago
}

// Task is one range to archive: the events of Device from First to Last.
// The writer may end the file earlier (at a partition date change, or
// before an event whose blob is not available) and leave the rest for the
// next plan.
type Task struct {
	Device      string
	First, Last uint64
}

// Plan returns the ranges to close now, one per origin at most, sorted by
// device, and the earliest time at which a waiting origin becomes due
// (zero if none waits). A range starts right after the watermark and
// never reaches a seq the bucket already covers, so no two files ever
// overlap, whatever boundaries earlier runs chose. It is closed when it
// holds lim.Rows events, when its oldest event is lim.Age old, or when it
// fills the whole gap before a covered seq.
func Plan(origins []Origin, lim Limits, now time.Time) (tasks []Task, wake time.Time) {
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	for _, o := range origins {
		end := o.Held
		fillsGap := false
		if o.Covered > o.Archived && o.Covered-1 <= end {
			end, fillsGap = o.Covered-1, true
		}
		if end <= o.Archived {
			continue
		}
		if now.Before(o.NotBefore) {
			later(o.NotBefore)
			continue
		}
		due := o.Oldest.Add(lim.Age)
		if end-o.Archived < lim.Rows && !fillsGap && now.Before(due) {
			later(due)
			continue
		}
		last := min(end, o.Archived+lim.Rows)
		tasks = append(tasks, Task{Device: o.Device, First: o.Archived + 1, Last: last})
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].Device < tasks[j].Device })
	return tasks, wake
}
