package syncproto

import "testing"

// TestFirstRunsRamp checks that a session's first sealed runs start at one
// batch and double up to RunBytes, so that the receiver applies (and a
// catch-up shows progress) before a whole RunBytes has arrived.
func TestFirstRunsRamp(t *testing.T) {
	full := NewMemReplica()
	o := newOrigins(t, 1, 4300)[0]
	l := buildLog(t, o, 3000, 5, 200, 0) // a seal every 5 events
	applyAll(t, full, l)
	empty := NewMemReplica()
	reps := [2]*MemReplica{full, empty}
	const batch, run = 8 << 10, 64 << 10
	var runs []int // bytes of each applied run, in order
	ra, rb := lockstep(t, encodedMem{full}, encodedMem{empty}, func(side int, a Apply) {
		n := 0
		for _, e := range a.Events {
			n += len(e.AppendBinary(nil))
		}
		runs = append(runs, n)
		if _, err := reps[side].Apply(a); err != nil {
			t.Fatal(err)
		}
	}, SessionConfig{MaxBatchBytes: batch, RunBytes: run})
	if ra.Err != nil || rb.Err != nil {
		t.Fatalf("session failed: %v; %v", ra.Err, rb.Err)
	}
	mustEqualContexts(t, full, empty)
	mustVerify(t, genuineSet(l), empty)
	// A run ends at the first seal at or after the seq its limit is
	// estimated to reach (from the average event size sent so far): within
	// one seal's spacing (5 events of about 300 bytes) past the limit.
	const slack = 5 * 400
	limit, biggest := batch, 0
	for i, n := range runs {
		if n > limit+slack {
			t.Fatalf("run %d: %d bytes, limit %d (runs %v)", i, n, limit, runs)
		}
		limit, biggest = min(2*limit, run), max(biggest, n)
	}
	if biggest < run*3/4 {
		t.Fatalf("runs never neared RunBytes (%d): %v", run, runs)
	}
}
