package store

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// skewLogEvery bounds the warnings about one origin's clock being far
// ahead to one per this interval of the store's clock.
const skewLogEvery = time.Minute

// hlcState is what the writer goroutine publishes about the node's hybrid
// logical clock (its event.IDGen) for readers, and what it counts of the
// stamps it refused to follow.
type hlcState struct {
	last atomic.Uint64 // event.HLC as MS<<16 | Counter

	mu      sync.Mutex
	skewed  map[string]uint64    // origin → events not followed
	lastLog map[string]time.Time // origin → last warning; writer only
}

func packHLC(h event.HLC) uint64   { return uint64(h.MS)<<16 | uint64(h.Counter) }
func unpackHLC(v uint64) event.HLC { return event.HLC{MS: int64(v >> 16), Counter: uint16(v & 0xffff)} }

// HLC returns the node's hybrid logical clock reading: the later of the
// last stamp it issued or followed and its physical clock (with counter
// 0). The next local event gets a stamp at or above it.
func (s *Store) HLC() event.HLC {
	h := unpackHLC(s.clock.last.Load())
	if now := (event.HLC{MS: s.cfg.Clock.Now().UnixMilli()}); now.Compare(h) > 0 {
		return now
	}
	return h
}

// ClockSkewed returns, per origin, how many received events carried a stamp
// more than Config.MaxClockSkew ahead of this node's clock when they were
// applied: stored and ordered by their own stamp, but not followed.
func (s *Store) ClockSkewed() map[string]uint64 {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	return maps.Clone(s.clock.skewed)
}

// observeRemote advances the clock past every remote event of the group
// not yet held, before any local event of the group gets its id, so that
// local ids are above everything applied with or before them. Stamps too
// far ahead are counted and logged instead. Our own events coming back
// from a peer (after a restore) are followed whatever their stamp: they
// were issued by this clock.
func (w *writer) observeRemote(reqs []*request, now time.Time) {
	ms, bound := now.UnixMilli(), w.s.cfg.MaxClockSkew.Milliseconds()
	for _, r := range reqs {
		for _, e := range r.remote {
			if w.known.Contains(crdt.Dot{Origin: e.Device, Seq: e.Seq}) {
				continue
			}
			h := event.HLCOf(e.ID)
			if e.Device == w.s.cfg.Origin {
				w.ids.Advance(h)
			} else if !w.ids.Observe(h, ms, bound) {
				w.skewed(e, h, now)
			}
		}
	}
}

// skewed counts and (at most once a minute per origin) logs an event whose
// stamp is too far ahead to follow.
func (w *writer) skewed(e *event.Event, h event.HLC, now time.Time) {
	c := &w.s.clock
	c.mu.Lock()
	if c.skewed == nil {
		c.skewed = map[string]uint64{}
	}
	c.skewed[e.Device]++
	n := c.skewed[e.Device]
	c.mu.Unlock()
	if c.lastLog == nil {
		c.lastLog = map[string]time.Time{}
	}
	if last, ok := c.lastLog[e.Device]; ok && now.Sub(last) < skewLogEvery {
		return
	}
	c.lastLog[e.Device] = now
	ahead := time.Duration(h.MS-now.UnixMilli()) * time.Millisecond
	w.s.log.Warn("event clock far ahead of ours; stored but not followed", "origin", e.Device, "seq", e.Seq,
		"hlc", h.String(), "ahead", ahead, "max_clock_skew", w.s.cfg.MaxClockSkew, "events_so_far", n)
}

// publishHLC makes the clock's state visible to HLC.
func (w *writer) publishHLC() { w.s.clock.last.Store(packHLC(w.ids.Last())) }

// restoreHLC sets the clock, on open, past every stamp the node has issued
// or would follow now: its own log's head (whatever its stamp), the clock
// when events were last pruned (their stamps are gone with them), and the
// latest event id held within MaxClockSkew of the clock.
func (w *writer) restoreHLC(head *event.Event) error {
	if head != nil {
		w.ids.Advance(event.HLCOf(head.ID))
	}
	if h, ok, err := w.s.prunedClock(); err != nil {
		return err
	} else if ok {
		w.ids.Advance(h)
	}
	now := w.s.cfg.Clock.Now().UnixMilli()
	limit := min(now+w.s.cfg.MaxClockSkew.Milliseconds(), event.MaxHLCMillis-1)
	if limit >= 0 {
		id, ok, err := w.s.latestID(event.HLC{MS: limit, Counter: event.MaxHLCCounter})
		if err != nil {
			return err
		}
		if ok {
			w.ids.Advance(event.HLCOf(id))
		}
	}
	w.publishHLC()
	return nil
}
