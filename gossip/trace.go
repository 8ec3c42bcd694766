package gossip

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// traceSize is how many session records the trace keeps, and separately
// how many push records.
const traceSize = 1024

// Pushes from one peer within pushMerge of the first are traced as one
// record while it has at most pushMaxRanges ranges, so a steady stream of
// announcements does not evict the sessions' history.
const (
	pushMerge     = time.Minute
	pushMaxRanges = 64
	pushLookBack  = 8 // newest records searched for one to merge into
)

// traceRing keeps the most recent session records.
type traceRing struct {
	mu   sync.Mutex
	recs []SessionRecord
	next int
	full bool
}

func newTraceRing(n int) *traceRing { return &traceRing{recs: make([]SessionRecord, n)} }

func (t *traceRing) add(rec SessionRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addLocked(rec)
}

func (t *traceRing) addLocked(rec SessionRecord) {
	t.recs[t.next] = rec
	t.next = (t.next + 1) % len(t.recs)
	t.full = t.full || t.next == 0
}

// list returns the records, newest first.
func (t *traceRing) list() []SessionRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.next
	if t.full {
		n = len(t.recs)
	}
	out := make([]SessionRecord, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, t.recs[(t.next-i+len(t.recs))%len(t.recs)])
	}
	return out
}

// addPush traces events applied from p's announcement of size bytes at
// now, merging them into a recent record of p's pushes when there is
// one, and returns the record's id.
func (t *traceRing) addPush(p peer.ID, events []*event.Event, size int, now time.Time) string {
	dots := crdt.NewContext()
	for _, e := range events {
		dots.Add(crdt.Dot{Origin: e.Device, Seq: e.Seq})
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 1; i <= min(pushLookBack, len(t.recs)); i++ {
		rec := &t.recs[(t.next-i+len(t.recs))%len(t.recs)]
		if rec.ID == "" || rec.Peer != p.String() || now.Sub(rec.Started) > pushMerge || len(rec.Ranges) >= pushMaxRanges {
			continue
		}
		for _, r := range rec.Ranges {
			dots.AddRange(r)
		}
		rec.Ranges, rec.Duration = dots.Ranges(), now.Sub(rec.Started)
		rec.EventsIn += uint64(len(events))
		rec.BytesIn += uint64(size)
		return rec.ID
	}
	rec := SessionRecord{ID: newSessionID(), Peer: p.String(), Direction: "push", Started: now,
		EventsIn: uint64(len(events)), BytesIn: uint64(size), Ranges: dots.Ranges(), Outcome: "ok"}
	t.addLocked(rec)
	return rec.ID
}

// Sessions returns the most recent session records, newest first.
func (r *Replicator) Sessions() []SessionRecord { return r.trace.list() }

// Pushes returns the most recent records of events applied from pushed
// announcements, newest first: direction "push"; pushes from one peer
// within a minute share a record, whose Duration spans them.
func (r *Replicator) Pushes() []SessionRecord { return r.pushes.list() }
