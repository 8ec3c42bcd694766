package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of GET /v1/trace's limit parameter.
const (
	DefaultTraceLimit = 100
	MaxTraceLimit     = 1024
)

var (
	// ErrInvalidQuery marks a trace query the node cannot answer as asked
	// (400).
	ErrInvalidQuery = errors.New("api: invalid query")
	// ErrNotTraced marks an event the trace cannot place: not stored here,
	// or older than the sessions the trace keeps (404).
	ErrNotTraced = errors.New("api: not traced")
)

// TraceQuery is a parsed GET /v1/trace query. With EventID set it asks
// where that event came from; otherwise it lists the Limit newest
// sessions, only those with Peer when Peer is set.
type TraceQuery struct {
	Limit   int       // sessions to list, 1..MaxTraceLimit; 0 with EventID
	Peer    string    // a peer id in canonical form, or ""
	EventID uuid.UUID // uuid.Nil: list sessions
}

// ParseTraceQuery parses a raw query string strictly: only limit, peer and
// event_id, each at most once; an empty value counts as absent; event_id
// cannot be combined with the others. Errors wrap ErrInvalidQuery.
func ParseTraceQuery(raw string) (TraceQuery, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return TraceQuery{}, fmt.Errorf("%w: malformed query string: %v", ErrInvalidQuery, err)
	}
	get := map[string]string{}
	for k, vals := range v {
		switch {
		case k != "limit" && k != "peer" && k != "event_id":
			return TraceQuery{}, fmt.Errorf("%w: unknown parameter %q (use limit, peer or event_id)", ErrInvalidQuery, k)
		case len(vals) > 1:
			return TraceQuery{}, fmt.Errorf("%w: parameter %s given %d times", ErrInvalidQuery, k, len(vals))
		}
		get[k] = vals[0]
	}
	if id := get["event_id"]; id != "" {
		return parseEventTrace(id, get)
	}
	q := TraceQuery{Limit: DefaultTraceLimit}
	if l := get["limit"]; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxTraceLimit {
			return TraceQuery{}, fmt.Errorf("%w: parameter limit: %q is not an integer from 1 to %d", ErrInvalidQuery, l, MaxTraceLimit)
		}
		q.Limit = n
	}
	if p := get["peer"]; p != "" {
		id, err := peer.Decode(p)
		if err != nil {
			return TraceQuery{}, fmt.Errorf("%w: parameter peer: %q is not a peer id", ErrInvalidQuery, p)
		}
		q.Peer = id.String()
	}
	return q, nil
}

func parseEventTrace(id string, get map[string]string) (TraceQuery, error) {
	if get["limit"] != "" || get["peer"] != "" {
		return TraceQuery{}, fmt.Errorf("%w: event_id cannot be combined with limit or peer", ErrInvalidQuery)
	}
	u, err := uuid.Parse(id)
	if err != nil || u == uuid.Nil {
		return TraceQuery{}, fmt.Errorf("%w: parameter event_id: %q is not an event id (a non-nil UUID)", ErrInvalidQuery, id)
	}
	return TraceQuery{EventID: u}, nil
}

// Encode returns q as a query string that ParseTraceQuery reads back as q.
func (q TraceQuery) Encode() string {
	v := url.Values{}
	if q.EventID != uuid.Nil {
		v.Set("event_id", q.EventID.String())
		return v.Encode()
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Peer != "" {
		v.Set("peer", q.Peer)
	}
	return v.Encode()
}

// TraceRange is a run of one origin's seqs, both ends included.
type TraceRange struct {
	Origin string `json:"origin"`
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
}

// TraceSession is one traced exchange with a peer: an anti-entropy session
// (direction "out" when this node opened it, "in" otherwise) or a run of
// pushed announcements (direction "push").
type TraceSession struct {
	ID         string       `json:"id"`
	Peer       string       `json:"peer"`
	Direction  string       `json:"direction"`
	Started    time.Time    `json:"started"`
	DurationMS float64      `json:"duration_ms"`
	EventsIn   uint64       `json:"events_in"`
	EventsOut  uint64       `json:"events_out"`
	BytesIn    uint64       `json:"bytes_in"`
	BytesOut   uint64       `json:"bytes_out"`
	Ranges     []TraceRange `json:"ranges"` // events received that this node lacked
	Result     string       `json:"result"` // ok, timeout, protocol_error, remote_error, failed
	Error      string       `json:"error,omitempty"`
}

// TraceList is the body of GET /v1/trace without event_id: sessions,
// newest first.
type TraceList struct {
	Sessions []TraceSession `json:"sessions"`
}

// EventTrace is the body of GET /v1/trace?event_id=: how the event came
// to this node.
type EventTrace struct {
	EventID  string        `json:"event_id"`
	DeviceID string        `json:"device_id"`
	Seq      uint64        `json:"seq"`
	Via      string        `json:"via"`               // "local" (created here), "session" or "push"
	Session  *TraceSession `json:"session,omitempty"` // the exchange that brought it, unless local
}

// trace answers GET /v1/trace.
func (s *Server) trace(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Trace == nil {
		writeError(w, http.StatusNotFound, "the trace is not available on this node")
		return
	}
	q, err := ParseTraceQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.cfg.Trace(r.Context(), q)
	switch {
	case errors.Is(err, ErrInvalidQuery):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotTraced):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.storeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}
