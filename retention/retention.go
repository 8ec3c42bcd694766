package retention

import (
	"sort"
	"time"
)

// Origin is what the node knows about one origin's events.
type Origin struct {
	// Floor is the seq at or below which the device already holds no events.
	Floor uint64
	// Max is the origin's contiguous maximum in the device's context.
	Max uint64
	// Archived is the highest seq a sink archived durably (max over sinks).
	Archived uint64
	// Stable is the highest seq every known live member holds; 0 when
	// unknown. It counts only with Input.WhenAllHave.
	Stable uint64
	// Aged is the highest seq whose events, from Floor on, are all older
	// than the retention window in force; at most Floor when none are.
	Aged uint64
}

// Input is everything Decide looks at.
type Input struct {
	// Origins by device id.
	Origins map[string]Origin
	// WhenAllHave lets the stable watermark stand in for the archived one.
	WhenAllHave bool
	// DiskBytes is the data directory's size; MaxDisk its budget (0: none).
	DiskBytes, MaxDisk int64
}

// Plan is what to prune.
type Plan struct {
	// Below is the floor to prune each origin to (store.Prune's argument);
	// only origins whose floor moves are present.
	Below map[string]uint64
	// Events is how many events Below removes.
	Events uint64
	// OverBytes is how far the data directory is over its budget now.
	OverBytes int64
	// ShortBytes estimates how far over budget it stays after the plan.
	ShortBytes int64
	// Blocked reports that the plan removes every archived event and the
	// budget is still not met: the rest is not archived yet.
	Blocked bool
	// Unarchived counts the events held above the line of what may go.
	Unarchived uint64
}

// Line is the highest seq of o that may be pruned: archived (or, with
// whenAllHave, held by every live member), and within the contiguous
// context.
func Line(o Origin, whenAllHave bool) uint64 {
	safe := o.Archived
	if whenAllHave {
		safe = max(safe, o.Stable)
	}
	return min(safe, o.Max)
}

// Decide plans the pruning: each origin down to the lower of its line and
// its aged seq. The budget figures estimate bytes per event as the data
// directory's size over the events held.
func Decide(in Input) Plan {
	p := Plan{Below: map[string]uint64{}}
	var held, freed uint64
	allAtLine := true
	for id, o := range in.Origins {
		line := Line(o, in.WhenAllHave)
		if o.Max > o.Floor {
			held += o.Max - o.Floor
		}
		if o.Max > max(line, o.Floor) {
			p.Unarchived += o.Max - max(line, o.Floor)
		}
		target := min(line, max(o.Aged, o.Floor))
		if target < line {
			allAtLine = false
		}
		if target > o.Floor {
			p.Below[id] = target
			freed += target - o.Floor
		}
	}
	p.Events = freed
	if in.MaxDisk > 0 && in.DiskBytes > in.MaxDisk {
		p.OverBytes = in.DiskBytes - in.MaxDisk
		perEvent := float64(in.DiskBytes) / float64(max(held, 1))
		if short := p.OverBytes - int64(float64(freed)*perEvent); short > 0 {
			p.ShortBytes = short
			p.Blocked = allAtLine
		}
	}
	return p
}

// Windows returns the retention windows to try, in order, while a plan
// falls short of the disk budget: retain itself (none when 0: keep events
// until the disk is full), then ever shorter windows down to 0, when every
// archived event may go.
func Windows(retain time.Duration) []time.Duration {
	ladder := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour,
		24 * time.Hour, 6 * time.Hour, time.Hour, 10 * time.Minute, time.Minute, 0}
	out := []time.Duration{retain}
	if retain == 0 {
		out[0] = Forever
	}
	for _, w := range ladder {
		if w < out[len(out)-1] {
			out = append(out, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

// Forever is the window that keeps every event: no event is that old.
const Forever = time.Duration(1<<63 - 1)

// Cutoff is the event time (epoch ms) before which events are older than
// window at now; math.MinInt64 for Forever.
func Cutoff(now time.Time, window time.Duration) int64 {
	if window == Forever || window > time.Duration(now.UnixNano()) {
		return -1 << 63
	}
	return now.Add(-window).UnixMilli()
}
