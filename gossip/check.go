package gossip

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
)

// RejectSchema is the rejection reason of events refused by
// Config.CheckEvent (the schema registry).
const RejectSchema = "schema"

// refusalLogEvery bounds the warnings about refused events to one per
// origin per this interval: a refused run is offered again every session.
const refusalLogEvery = time.Minute

// refusals remembers when refused events of each origin were last logged.
type refusals struct {
	mu     sync.Mutex
	logged map[string]time.Time
}

// screen returns the part of events, one verified sealed run from p, that
// may be applied: all of it when every event passes Config.CheckEvent,
// else only the events after the last one that fails. Those are still
// covered by the run's seal; the events before them are not (the seal
// vouches for the run's head only), so they are refused with the failing
// one and stay missing here until the run is offered again and passes.
// Each refused event is counted as a RejectSchema rejection of p; p is not
// struck, since it relayed authentic events its own registry accepted.
func (r *Replicator) screen(p peer.ID, events []*event.Event) []*event.Event {
	if r.cfg.CheckEvent == nil {
		return events
	}
	last := -1
	var lastErr error
	for i, e := range events {
		if err := r.cfg.CheckEvent(e); err != nil {
			last, lastErr = i, err
		}
	}
	if last < 0 {
		return events
	}
	for range last + 1 {
		r.reject(p, RejectSchema)
	}
	if e := events[last]; r.shouldLogRefusal(e.Device) {
		r.log.Warn("refused events that fail the schema registry; they stay missing here until the registries agree",
			"peer", p, "origin", e.Device, "from_seq", events[0].Seq, "to_seq", e.Seq, "type", e.Type, "schema", e.Schema,
			"err", lastErr)
	}
	return events[last+1:]
}

func (r *Replicator) shouldLogRefusal(origin string) bool {
	now := r.cfg.Clock.Now()
	r.refused.mu.Lock()
	defer r.refused.mu.Unlock()
	if r.refused.logged == nil {
		r.refused.logged = map[string]time.Time{}
	}
	if last, ok := r.refused.logged[origin]; ok && now.Sub(last) < refusalLogEvery {
		return false
	}
	r.refused.logged[origin] = now
	return true
}
