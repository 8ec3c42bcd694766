package gossip

import (
	"sort"
	"sync"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
	"github.com/rumor-sync/rumor/internal/clock"
)

// tracker remembers, per origin, the highest seq known to exist anywhere
// in the mesh (from announcements and peers' contexts), since when this
// replica has been missing some of it, and when it last received an event.
type tracker struct {
	clock clock.Clock
	mu    sync.Mutex
	known map[string]uint64
	since map[string]time.Time // first time known > held, while it lasts
	last  map[string]time.Time // last arrival of a new event
}

func newTracker(c clock.Clock) *tracker {
	return &tracker{clock: c, known: map[string]uint64{}, since: map[string]time.Time{}, last: map[string]time.Time{}}
}

// learn records that origin's log reaches at least seq somewhere.
func (t *tracker) learn(origin string, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.learnLocked(origin, seq)
}

// learnLocked is learn with t.mu held.
func (t *tracker) learnLocked(origin string, seq uint64) {
	if seq > t.known[origin] {
		t.known[origin] = seq
	}
}

// learnContext records everything a peer's context holds.
func (t *tracker) learnContext(c *crdt.Context) {
	for _, o := range c.Origins() {
		t.learn(o, c.Highest(o))
	}
}

// arrivedAll records that events arrived (new here), under one lock and
// one reading of the clock: an apply brings thousands of one origin.
func (t *tracker) arrivedAll(events []*event.Event) {
	if len(events) == 0 {
		return
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; i < len(events); {
		origin, top := events[i].Device, events[i].Seq
		for i++; i < len(events) && events[i].Device == origin; i++ {
			top = max(top, events[i].Seq)
		}
		t.learnLocked(origin, top)
		t.last[origin] = now
	}
}

// DeviceHealth is one origin's completeness on this replica.
type DeviceHealth struct {
	DeviceID     string  `json:"device_id"`
	Events       uint64  `json:"events"`
	KnownMaxSeq  uint64  `json:"known_max_seq"`
	Completeness float64 `json:"completeness"`
	LagSeconds   float64 `json:"lag_seconds"`
	LastSeen     string  `json:"last_seen,omitempty"`
	// ArchivedSeq is the highest seq of the device some sink has archived.
	ArchivedSeq uint64 `json:"archived_seq"`
	// PrunedSeq is the seq at or below which this node holds no raw events
	// of the device any more (pruned, or joined from a snapshot without them).
	PrunedSeq uint64 `json:"pruned_seq"`
}

// Health is this replica's completeness against what the mesh knows.
type Health struct {
	Completeness float64        `json:"completeness"`
	Devices      []DeviceHealth `json:"devices"`
}

// report computes health from the replica's context: per origin, events
// held ÷ highest seq known anywhere, and the age of the oldest gap.
func (t *tracker) report(held *crdt.Context, self string) Health {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	origins := map[string]bool{}
	for _, o := range held.Origins() {
		origins[o] = true
	}
	for o := range t.known {
		origins[o] = true
	}
	counts := countOrigins(held)
	var h Health
	var present, known uint64
	for o := range origins {
		d := t.device(o, counts[o], held, now)
		if o == self {
			d.LastSeen = now.UTC().Format(time.RFC3339)
		}
		present += d.Events
		known += d.KnownMaxSeq
		h.Devices = append(h.Devices, d)
	}
	sort.Slice(h.Devices, func(i, j int) bool { return h.Devices[i].DeviceID < h.Devices[j].DeviceID })
	h.Completeness = 1
	if known > 0 {
		h.Completeness = float64(present) / float64(known)
	}
	return h
}

// device computes one origin's entry; t.mu is held.
func (t *tracker) device(o string, n uint64, held *crdt.Context, now time.Time) DeviceHealth {
	k := max(t.known[o], held.Highest(o))
	d := DeviceHealth{DeviceID: o, Events: n, KnownMaxSeq: k, Completeness: 1}
	if k > 0 {
		d.Completeness = float64(n) / float64(k)
	}
	if n < k {
		if _, ok := t.since[o]; !ok {
			t.since[o] = now
		}
		d.LagSeconds = now.Sub(t.since[o]).Seconds()
	} else {
		delete(t.since, o)
	}
	if ts, ok := t.last[o]; ok {
		d.LastSeen = ts.UTC().Format(time.RFC3339)
	}
	return d
}

// countOrigins is the number of dots held per origin, in one pass.
func countOrigins(c *crdt.Context) map[string]uint64 {
	n := map[string]uint64{}
	for _, r := range c.Ranges() {
		n[r.Origin] += r.To - r.From + 1
	}
	return n
}

// Health reports completeness and lag per device.
func (r *Replicator) Health() Health {
	h := r.health.report(r.cfg.Store.Context(), r.cfg.Store.Origin())
	var floor func(string) uint64
	if f, ok := r.cfg.Store.(syncproto.Floored); ok {
		floor = f.Floor
	}
	return h.WithRetention(r.Archived(), floor)
}

// WithRetention fills in each device's archived seq and, when floor is
// not nil, its pruned seq.
func (h Health) WithRetention(archived map[string]uint64, floor func(origin string) uint64) Health {
	for i := range h.Devices {
		d := &h.Devices[i]
		d.ArchivedSeq = archived[d.DeviceID]
		if floor != nil {
			d.PrunedSeq = floor(d.DeviceID)
		}
	}
	return h
}

// LocalHealth is the health of a replica with no network: completeness
// against what it holds itself.
func LocalHealth(held *crdt.Context, self string, c clock.Clock) Health {
	return newTracker(c).report(held, self)
}
