package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/store"
)

// trace answers GET /v1/trace: the sessions that started last, newest
// first, or where one event came from.
func (n *Node) trace(_ context.Context, q api.TraceQuery) (any, error) {
	if q.EventID != uuid.Nil {
		return n.traceEvent(q.EventID)
	}
	out := api.TraceList{Sessions: []api.TraceSession{}}
	_, r := n.network()
	if r == nil {
		return out, nil
	}
	recs := r.Sessions() // in finishing order, newest first
	slices.SortStableFunc(recs, func(x, y gossip.SessionRecord) int { return y.Started.Compare(x.Started) })
	for _, rec := range recs {
		if len(out.Sessions) == q.Limit {
			break
		}
		if q.Peer == "" || rec.Peer == q.Peer {
			out.Sessions = append(out.Sessions, traceSession(rec))
		}
	}
	return out, nil
}

// traceEvent finds the session or push that brought the event here.
func (n *Node) traceEvent(id uuid.UUID) (any, error) {
	e, err := n.store.GetByID(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: event %s is not stored on this node", api.ErrNotTraced, id)
	}
	if err != nil {
		return nil, err
	}
	out := api.EventTrace{EventID: id.String(), DeviceID: e.Device, Seq: e.Seq, Via: "local"}
	if e.Device == n.ID() {
		return out, nil
	}
	_, r := n.network()
	if r == nil {
		return nil, fmt.Errorf("%w: event %s/%d came from a peer, but this node is offline and traces nothing",
			api.ErrNotTraced, e.Device, e.Seq)
	}
	sessions, pushes := r.Sessions(), r.Pushes()
	rec, ok := arrival(crdt.Dot{Origin: e.Device, Seq: e.Seq}, sessions, pushes)
	if !ok {
		return nil, fmt.Errorf("%w: event %s/%d arrived before the oldest of the %d sessions and %d pushes traced since the node started",
			api.ErrNotTraced, e.Device, e.Seq, len(sessions), len(pushes))
	}
	out.Via, out.Session = "session", new(traceSession(rec))
	if rec.Direction == "push" {
		out.Via = "push"
	}
	return out, nil
}

// arrival returns the record whose received ranges hold d, preferring one
// that completed (a failed session may have received events it did not
// apply), and among those the newest.
func arrival(d crdt.Dot, lists ...[]gossip.SessionRecord) (gossip.SessionRecord, bool) {
	var found gossip.SessionRecord
	ok := false
	for _, recs := range lists {
		for _, rec := range recs {
			if !received(rec, d) {
				continue
			}
			better := !ok || (rec.Outcome == "ok" && found.Outcome != "ok") ||
				(rec.Outcome == "ok") == (found.Outcome == "ok") && rec.Started.After(found.Started)
			if better {
				found, ok = rec, true
			}
		}
	}
	return found, ok
}

// received reports whether rec's received ranges hold d.
func received(rec gossip.SessionRecord, d crdt.Dot) bool {
	for _, r := range rec.Ranges {
		if r.Origin == d.Origin && r.From <= d.Seq && d.Seq <= r.To {
			return true
		}
	}
	return false
}

func traceSession(rec gossip.SessionRecord) api.TraceSession {
	s := api.TraceSession{
		ID: rec.ID, Peer: rec.Peer, Direction: rec.Direction, Started: rec.Started.UTC(),
		DurationMS: float64(rec.Duration.Microseconds()) / 1000,
		EventsIn:   rec.EventsIn, EventsOut: rec.EventsOut, BytesIn: rec.BytesIn, BytesOut: rec.BytesOut,
		Ranges: make([]api.TraceRange, len(rec.Ranges)), Result: rec.Outcome, Error: rec.Error,
	}
	for i, r := range rec.Ranges {
		s.Ranges[i] = api.TraceRange{Origin: r.Origin, From: r.From, To: r.To}
	}
	return s
}
