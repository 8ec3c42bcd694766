package retention

import (
	"math"
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
	// than the retention window (--retain); at most Floor when none are.
	Aged uint64
	// Pressure is Aged for the shorter window the disk budget is trying
	// (Windows); it matters only over budget.
	Pressure uint64
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

// Decide plans the pruning. Every origin goes down to the lower of its
// line and its Aged seq. Over the disk budget, estimating bytes per event
// as the data directory's size over the events held, it also takes the
// events still needed from those older than the pressure window, oldest
// first within each origin and in proportion to what each origin offers.
func Decide(in Input) Plan {
	p := Plan{Below: map[string]uint64{}}
	ids := make([]string, 0, len(in.Origins))
	for id := range in.Origins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var held, freed uint64
	base := make(map[string]uint64, len(ids))
	for _, id := range ids {
		o := in.Origins[id]
		line := Line(o, in.WhenAllHave)
		if o.Max > o.Floor {
			held += o.Max - o.Floor
		}
		if o.Max > max(line, o.Floor) {
			p.Unarchived += o.Max - max(line, o.Floor)
		}
		base[id] = max(o.Floor, min(line, o.Aged))
		freed += base[id] - o.Floor
	}
	target := base
	if in.MaxDisk > 0 && in.DiskBytes > in.MaxDisk {
		p.OverBytes = in.DiskBytes - in.MaxDisk
		perEvent := float64(in.DiskBytes) / float64(max(held, 1))
		need := uint64(math.Ceil(float64(p.OverBytes)/perEvent)) - min(freed, uint64(math.Ceil(float64(p.OverBytes)/perEvent)))
		var short uint64
		target, short, p.Blocked = squeeze(in, ids, base, need)
		p.ShortBytes = int64(float64(short) * perEvent)
	}
	for _, id := range ids {
		if f := in.Origins[id].Floor; target[id] > f {
			p.Below[id] = target[id]
			p.Events += target[id] - f
		}
	}
	return p
}

// squeeze takes need more events beyond base from the ones older than the
// pressure window, in proportion to what each origin offers. It returns
// the new targets, the events still missing, and whether that is because
// every origin is at its line.
func squeeze(in Input, ids []string, base map[string]uint64, need uint64) (map[string]uint64, uint64, bool) {
	target := make(map[string]uint64, len(base))
	avail := make(map[string]uint64, len(base))
	var total uint64
	allAtLine := true
	for _, id := range ids {
		o := in.Origins[id]
		line := Line(o, in.WhenAllHave)
		upto := max(base[id], min(line, o.Pressure))
		if upto < line {
			allAtLine = false
		}
		avail[id] = upto - base[id]
		total += avail[id]
		target[id] = base[id]
	}
	take := min(need, total)
	if take == 0 {
		return target, need, need > 0 && allAtLine
	}
	given := uint64(0)
	for _, id := range ids { // proportional shares, rounded down
		share := uint64(float64(take) * float64(avail[id]) / float64(total))
		target[id] += share
		avail[id] -= share
		given += share
	}
	for _, id := range ids { // the rounding remainder, in id order
		if given >= take {
			break
		}
		extra := min(avail[id], take-given)
		target[id] += extra
		given += extra
	}
	short := need - take
	return target, short, short > 0 && allAtLine
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
