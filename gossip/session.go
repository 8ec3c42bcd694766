package gossip

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// sessionTimeout bounds one session's wall time whatever its progress.
const sessionTimeout = 10 * time.Minute

// SessionRecord is the trace of one anti-entropy session.
type SessionRecord struct {
	ID        string           `json:"id"`
	Peer      string           `json:"peer"`
	Direction string           `json:"direction"` // "out" (we opened it) or "in"
	Started   time.Time        `json:"started"`
	Duration  time.Duration    `json:"duration"`
	Result    syncproto.Result `json:"-"`
	EventsIn  uint64           `json:"events_in"`
	EventsOut uint64           `json:"events_out"`
	BytesIn   uint64           `json:"bytes_in"`
	BytesOut  uint64           `json:"bytes_out"`
	Ranges    []crdt.Range     `json:"ranges"`
	Outcome   string           `json:"result"`
	Error     string           `json:"error,omitempty"`
	// Protocol is the sync protocol version the session ran in.
	Protocol uint8 `json:"protocol"`
}

// SyncWith runs one anti-entropy session with p now and returns its record.
func (r *Replicator) SyncWith(ctx context.Context, p peer.ID) (SessionRecord, error) {
	s, err := r.mesh.Host().NewStream(ctx, p, r.syncProtos...)
	if err != nil {
		return SessionRecord{}, fmt.Errorf("gossip: open sync stream to %s: %w", p, err)
	}
	rec := r.drive(ctx, s, true)
	if rec.Result.Err != nil {
		return rec, rec.Result.Err
	}
	return rec, nil
}

// handleSync serves a session a peer opened. One session per pair of
// peers is enough (both directions flow in it): when both opened one at
// the same time, the one opened by the peer with the smaller ID wins.
func (r *Replicator) handleSync(s network.Stream) {
	p := s.Conn().RemotePeer()
	if !r.enter() {
		s.Reset()
		return
	}
	defer r.wg.Done()
	if !r.acceptInbound(p) {
		s.Reset()
		return
	}
	defer r.endInbound(p)
	r.drive(r.ctx, s, false)
}

// acceptInbound registers an inbound session from p unless a session with
// p is already running that should win.
func (r *Replicator) acceptInbound(p peer.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inbound[p] {
		return false
	}
	if r.running[p] && r.mesh.ID() < p { // our outbound session wins
		return false
	}
	r.inbound[p] = true
	return true
}

func (r *Replicator) endInbound(p peer.ID) {
	r.mu.Lock()
	delete(r.inbound, p)
	r.mu.Unlock()
}

// frameIn is one frame read from the stream, or the read error.
type frameIn struct {
	m   syncproto.Message
	err error
}

// drive runs the session state machine over s until it is done.
func (r *Replicator) drive(ctx context.Context, s network.Stream, initiator bool) SessionRecord {
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	p := s.Conn().RemotePeer()
	rec := SessionRecord{ID: newSessionID(), Peer: p.String(), Direction: "in", Started: r.cfg.Clock.Now()}
	if initiator {
		rec.Direction = "out"
	}
	cfg := r.sessionConfig()
	cfg.Version = syncVersion(s.Protocol())
	codec, err := syncproto.NewCodec(cfg.Version)
	if err != nil { // a protocol ID we do not serve: multistream would not have picked it
		s.Reset()
		return r.finish(rec, syncproto.Result{Err: err})
	}
	rec.Protocol = cfg.Version
	sess := syncproto.NewSession(cfg, r.cfg.Store, initiator)
	d := &driver{r: r, s: s, sess: sess, peer: p, codec: codec, w: bufio.NewWriterSize(r.throttle(ctx, s), 64<<10), ctx: ctx}
	frames := make(chan frameIn, 8)
	go d.readLoop(frames)
	d.waits, d.done = make(chan func() ([]*event.Event, error), maxApplying), make(chan applied, maxApplying)
	defer close(d.waits)
	go d.waitLoop()
	ticker := time.NewTicker(r.cfg.Tick)
	defer ticker.Stop()
	rd := sess.Start()
	for {
		if final, done := d.handle(rd); done {
			// Record first (fork evidence, strikes), then send the last
			// frames (an ERROR, a DONE): a peer that sees the end of the
			// session can already see what it led to.
			res := final.Result
			rec = r.finish(rec, res)
			_ = d.send(final.Send)
			if res.Err != nil {
				s.Reset()
			} else {
				_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
				s.Close()
			}
			return rec
		}
		select {
		case res := <-d.done:
			if res.err != nil {
				rd = sess.Abort(res.err)
				continue
			}
			d.afterApply(res.added)
			rd = sess.Applied(1)
		case f := <-frames:
			if f.err != nil {
				rd = sess.Abort(f.err)
				continue
			}
			d.observe(f.m)
			rd, _ = sess.Step(f.m)
		case <-ticker.C:
			rd = sess.Tick()
		case <-ctx.Done():
			rd = sess.Abort(ctx.Err())
		}
	}
}

// driver carries one session's I/O state.
type driver struct {
	r     *Replicator
	s     network.Stream
	sess  *syncproto.Session
	peer  peer.ID
	codec syncproto.Codec // the session's protocol version
	w     *bufio.Writer
	ctx   context.Context
	// waits are the submitted applies in order; waitLoop waits for each
	// and reports it on done.
	waits chan func() ([]*event.Event, error)
	done  chan applied
}

// maxApplying is the room for applies a session has submitted and not
// yet seen durable. A session has at most one per ACK it owes, and a peer
// that makes it owe more than syncproto's limit (1024) breaks the
// protocol, so the driver never blocks handing one over (the waits and
// their results could otherwise fill both channels and stall each other).
const maxApplying = 1025

// applied is the outcome of one submitted apply.
type applied struct {
	added []*event.Event
	err   error
}

// waitLoop waits for the session's applies in submission order.
func (d *driver) waitLoop() {
	for w := range d.waits {
		added, err := w()
		select {
		case d.done <- applied{added, err}:
		case <-d.ctx.Done():
			return
		}
	}
}

func (d *driver) readLoop(out chan<- frameIn) {
	br := bufio.NewReaderSize(d.s, 64<<10)
	for {
		m, err := d.codec.ReadFrame(br)
		select {
		case out <- frameIn{m, err}:
		case <-d.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// observe learns what the peer holds from its SYNC_REQ, for health.
func (d *driver) observe(m syncproto.Message) {
	if q, ok := m.(*syncproto.SyncReq); ok {
		ctx := crdt.NewContext()
		if ctx.UnmarshalBinary(q.Context) == nil {
			d.r.health.learnContext(ctx)
			d.r.members.learn(d.peer, ctx.VersionVector())
		}
	}
}

// handle performs rd and every Ready that follows from it: sending
// frames, applying events durably and confirming them. Once the session
// is done it returns the final Ready, whose frames are not sent yet.
func (d *driver) handle(rd syncproto.Ready) (syncproto.Ready, bool) {
	queue := []syncproto.Ready{rd}
	for len(queue) > 0 {
		rd, queue = queue[0], queue[1:]
		if rd.Done {
			return rd, true
		}
		if err := d.send(rd.Send); err != nil {
			queue = append(queue, d.sess.Abort(err))
			continue
		}
		for _, a := range rd.Apply {
			if err := d.apply(a); err != nil {
				queue = append(queue, d.sess.Abort(err))
				break
			}
		}
	}
	return syncproto.Ready{}, false
}

func (d *driver) send(msgs []syncproto.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	_ = d.s.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for _, m := range msgs {
		if err := d.codec.WriteFrame(d.w, m); err != nil {
			return err
		}
		d.sess.Sent(m) // the bytes are in the buffer or the stream now
	}
	return d.w.Flush()
}

// apply submits a to the store; its outcome arrives on d.done, in order.
func (d *driver) apply(a syncproto.Apply) error {
	// Refused events are confirmed to the session as handled, not stored.
	n := len(a.Events)
	a.Events = d.r.screen(d.peer, a.Events) // a suffix of a.Events
	if len(a.Encoded) == n {
		a.Encoded = a.Encoded[n-len(a.Events):]
	} else {
		a.Encoded = nil
	}
	seals := make([]event.Seal, len(a.Seals))
	for i, s := range a.Seals {
		seals[i] = *s
	}
	if len(a.Events) == 0 {
		seals = nil
	}
	wait, err := d.r.cfg.Store.ApplyAsync(d.ctx, a.Events, a.Encoded, seals)
	if err != nil {
		return fmt.Errorf("gossip: apply: %w", err)
	}
	select {
	case d.waits <- wait:
		return nil
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
}

// afterApply accounts for events an apply stored.
func (d *driver) afterApply(added []*event.Event) {
	if len(added) > 0 {
		d.r.obs.Received(d.peer, len(added))
		d.r.noteApplied(added, d.peer)
		d.r.checkRedactions(d.peer, added)
	}
}

// finish records the session's outcome and updates the peer's backoff.
func (r *Replicator) finish(rec SessionRecord, res syncproto.Result) SessionRecord {
	rec.Duration = r.cfg.Clock.Now().Sub(rec.Started)
	rec.Result = res
	rec.EventsIn, rec.EventsOut = res.EventsIn, res.EventsOut
	rec.BytesIn, rec.BytesOut = res.BytesIn, res.BytesOut
	rec.Ranges = res.Ranges
	rec.Outcome = "ok"
	p, _ := peer.Decode(rec.Peer)
	if res.Err != nil {
		rec.Outcome, rec.Error = outcome(res.Err), res.Err.Error()
	}
	for range res.Refused {
		r.reject(p, "redaction_unauthorized")
	}
	if res.Refused > 0 || res.Withheld > 0 {
		r.log.Info("redacted events not exchanged", "session", rec.ID, "peer", rec.Peer, "protocol", rec.Protocol,
			"refused", res.Refused, "withheld", res.Withheld)
	}
	if res.Err == nil && res.RoundTrips == 1 { // equal digests: the peer holds what we hold
		r.members.learn(p, r.cfg.Store.Context().VersionVector())
	}
	for _, f := range res.Forks {
		r.log.Error("forked origin: two sealed events at one dot", "origin", f[0].Device, "seq", f[0].Seq,
			"held", f[0].Hash().String(), "received", f[1].Hash().String(), "peer", rec.Peer)
		r.reject(p, "fork")
		if err := r.cfg.Store.RecordFork(&f[0], &f[1]); err != nil {
			r.log.Error("could not keep fork evidence", "err", err)
		}
	}
	r.afterSession(p, rec)
	r.trace.add(rec)
	r.obs.SessionDone(rec)
	lvl := slogLevel(res.Err)
	r.log.Log(context.Background(), lvl, "sync session", "session", rec.ID, "peer", rec.Peer,
		"direction", rec.Direction, "events_in", rec.EventsIn, "events_out", rec.EventsOut,
		"bytes_in", rec.BytesIn, "bytes_out", rec.BytesOut, "duration", rec.Duration, "result", rec.Outcome,
		"protocol", rec.Protocol, "err", rec.Error)
	return rec
}

// outcome classifies a session error for traces and metrics.
func outcome(err error) string {
	switch {
	case errors.Is(err, syncproto.ErrProtocol):
		return "protocol_error"
	case errors.Is(err, syncproto.ErrRemote):
		return "remote_error"
	case errors.Is(err, syncproto.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "failed"
	}
}
