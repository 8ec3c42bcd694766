package store

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Ack identifies an event that is durably stored.
type Ack struct {
	EventID  uuid.UUID
	DeviceID string
	Seq      uint64
}

// request is one Ingest or Apply call travelling through the pipeline.
type request struct {
	inputs  []event.Input  // local events to create (Ingest)
	remote  []*event.Event // verified events from peers (Apply)
	encoded [][]byte       // remote[i]'s canonical encoding where known (ApplyAsync)
	seals   []event.Seal   // seals that came with remote
	acks    []Ack          // Ingest result
	applied []*event.Event // Apply result: the events that were new
	err     error
	done    chan struct{}

	install *SnapshotHeader // Install: the snapshot to adopt (install.go)
}

func (r *request) size() int { return len(r.inputs) + len(r.remote) }

// group is one record written to a segment, waiting for its fdatasync.
type group struct {
	reqs   []*request
	events []*event.Event
	dots   *crdt.Context // the dots of events (nil for an install's group, which has none)
	nums   []number      // each event's aggregate value, read while hot
	locs   []location
	seals  []event.Seal
	// local counts the events of this store's origin (made here, or its
	// own past from a peer); redactions is whether some event is a
	// redaction or a redacted event. Both are noted as events are written,
	// for Commit.
	local      int
	redactions bool
	seq        uint64     // position in the stream of groups, from 1
	file       *os.File   // segment file holding the record
	end        checkpoint // log position just past the record

	install *SnapshotHeader // set on an Install's group (install.go)
	// durable is when its fdatasync returned, epoch ms: the received time
	// of its events (see Store.ScanReceived). Set by the syncer.
	durable int64
}

// writer is the state of the writer goroutine.
type writer struct {
	s *Store
	// known is every dot committed or in flight: the store's accepted set
	// (accepted.go), read here without its lock (only this goroutine
	// changes it, through acc, under the lock).
	known *crdt.Context
	next  uint64     // next local seq
	head  event.Hash // hash of the local event at next-1
	ids   event.IDGen
	rb    recordBuilder
	seq   uint64 // groups written so far
	// alone counts the groups in a row written while no earlier group was
	// waiting for its fdatasync: one commit at a time (see stepFor).
	alone int

	// redactions are the redactions committed and in flight, by target.
	redactions map[crdt.Dot]*event.Redaction
}

// Ingest stores inputs as new local events and returns their acks in
// order, once they are durable. A request is all-or-nothing: its events are
// written in one record. Inputs must have passed event.ParseInput. If ctx
// ends before the commit, Ingest returns ctx.Err() and the events may or
// may not have been stored. An input of the reserved type
// event.RedactionType fails with ErrReservedType: use Redact.
func (s *Store) Ingest(ctx context.Context, inputs []event.Input) ([]Ack, error) {
	return s.ingest(ctx, inputs, false)
}

func (s *Store) ingest(ctx context.Context, inputs []event.Input, redaction bool) ([]Ack, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	for i := range inputs {
		if inputs[i].Type == event.RedactionType && !redaction {
			return nil, ErrReservedType
		}
	}
	r := &request{inputs: inputs, done: make(chan struct{})}
	if err := s.roundTrip(ctx, r); err != nil {
		return nil, err
	}
	return r.acks, nil
}

// Apply durably stores events received from peers, which the caller has
// already validated and verified against their seals, together with those
// seals. Events whose dot is already held are skipped; Apply returns the
// ones that were new, once durable.
func (s *Store) Apply(ctx context.Context, events []*event.Event, seals []event.Seal) ([]*event.Event, error) {
	wait, err := s.ApplyAsync(ctx, events, nil, seals)
	if err != nil {
		return nil, err
	}
	return wait()
}

// ApplyAsync is Apply without waiting: it hands events and seals to the
// writer and returns a function that waits for them to be durable and
// returns what Apply would. Requests are written in the order they are
// submitted, so a caller can keep several in flight and wait for them in
// that order while it prepares the next.
//
// encoded, which may be nil or shorter than events, holds events' canonical
// encodings as received where known (encoded[i] must equal
// events[i].AppendBinary(nil)): they are written as they are.
func (s *Store) ApplyAsync(ctx context.Context, events []*event.Event, encoded [][]byte, seals []event.Seal) (func() ([]*event.Event, error), error) {
	if len(events) == 0 && len(seals) == 0 {
		return func() ([]*event.Event, error) { return nil, nil }, nil
	}
	r := &request{remote: events, encoded: encoded, seals: seals, done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return nil, err
	}
	return func() ([]*event.Event, error) {
		select {
		case <-r.done:
			return r.applied, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, nil
}

func (s *Store) roundTrip(ctx context.Context, r *request) error {
	if err := s.submit(ctx, r); err != nil {
		return err
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit hands r to the writer unless the store is closed or failed.
func (s *Store) submit(ctx context.Context, r *request) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.Err(); err != nil {
		return err
	}
	select {
	case s.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *writer) init(s *Store) error {
	w.s = s
	w.known = s.acc.init(s.ctx)
	w.redactions = s.red.snapshot()
	origin := s.cfg.Origin
	w.next = s.ctx.Highest(origin) + 1
	var head *event.Event
	if w.next > 1 {
		if h, ok := s.floorHash(crdt.Dot{Origin: origin, Seq: w.next - 1}); ok {
			w.head = h // the local head was pruned; its hash is kept (floors.go)
		} else {
			e, err := s.Get(crdt.Dot{Origin: origin, Seq: w.next - 1})
			if err != nil {
				return fmt.Errorf("store: read local head: %w", err)
			}
			w.head, head = e.Hash(), e
		}
	}
	return w.restoreHLC(head)
}

// runWriter turns requests into records until the store closes.
func (s *Store) runWriter() {
	defer s.wg.Done()
	defer close(s.groups)
	for {
		select {
		case r := <-s.reqs:
			s.w.handle(r)
		case <-s.quit:
			for { // finish what was submitted before Close
				select {
				case r := <-s.reqs:
					s.w.handle(r)
				default:
					return
				}
			}
		}
	}
}

// handle builds one group from r and whatever else is queued.
func (w *writer) handle(first *request) {
	if first.install != nil {
		w.handleInstall(first)
		return
	}
	reqs := []*request{first}
	n := first.size()
collect:
	for n < w.s.cfg.MaxGroupEvents {
		select {
		case r := <-w.s.reqs:
			if r.install != nil { // a group of its own, after this one
				defer w.handleInstall(r)
				break collect
			}
			reqs = append(reqs, r)
			n += r.size()
		default:
			break collect
		}
	}
	if err := w.s.Err(); err != nil {
		failAll(reqs, err)
		return
	}
	g, err := w.write(reqs, n)
	if err != nil {
		w.s.log.Error("append to log failed", "err", err, "events", n)
		failAll(reqs, err)
		return
	}
	if g == nil { // nothing new: every remote event was already held
		for _, r := range reqs {
			close(r.done)
		}
		return
	}
	w.seq++
	g.seq = w.seq
	w.s.groups <- g
}

// write builds the group's events and appends them as one record. Local
// inputs get seqs, ids and chain hashes, and one seal over the new head;
// remote events already held (or in flight) are dropped.
func (w *writer) write(reqs []*request, n int) (*group, error) {
	t := w.s.cfg.Clock.Now()
	now := t.UnixMilli()
	w.observeRemote(reqs, t)
	defer w.publishHLC()
	g := &group{reqs: reqs, events: make([]*event.Event, 0, n), nums: make([]number, 0, n)}
	next, head := w.next, w.head
	// A group may carry the same remote dot twice (within a request or
	// across two): added keeps those written, local ones too, and becomes
	// part of the accepted set in one merge instead of a pass over events.
	added := crdt.NewContext()
	w.rb.reset(w.s.segs.phase())
	w.rb.reserve(encodedSize(reqs, w.s.cfg.Origin))
	for _, r := range reqs {
		if len(r.inputs) > 0 {
			r.acks = make([]Ack, 0, len(r.inputs))
		}
		g.local += len(r.inputs)
		for i := range r.inputs {
			e := localEvent(&r.inputs[i], w.ids.Next(now), w.s.cfg.Origin, next, now, head)
			added.Add(crdt.Dot{Origin: e.Device, Seq: e.Seq})
			g.redactions = w.note(e) || g.redactions
			head = w.rb.addEvent(e, true)
			next++
			g.events, g.nums = append(g.events, e), append(g.nums, readNumber(e))
			r.acks = append(r.acks, Ack{EventID: e.ID, DeviceID: e.Device, Seq: e.Seq})
		}
		if len(r.remote) > 0 && r.applied == nil {
			r.applied = make([]*event.Event, 0, len(r.remote)) // usually all new
		}
		for i, e := range r.remote {
			d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
			if w.known.Contains(d) || !added.Add(d) {
				continue
			}
			mine := e.Device == w.s.cfg.Origin
			own := mine && e.Seq >= next // our own past, from a peer
			if mine {
				g.local++
			}
			form := w.writeForm(e)
			g.redactions = w.note(form) || g.redactions
			var h event.Hash
			if form == e && i < len(r.encoded) && r.encoded[i] != nil {
				h = w.rb.addEncoded(e, r.encoded[i], own)
			} else {
				h = w.rb.addEvent(form, own)
			}
			e = form
			if own {
				next, head = e.Seq+1, h
			}
			g.events, g.nums = append(g.events, e), append(g.nums, readNumber(e))
			r.applied = append(r.applied, e)
		}
		g.seals = append(g.seals, r.seals...)
	}
	if next > w.next && len(g.events) > 0 && hasLocal(reqs) {
		seal, err := event.NewSeal(w.s.cfg.Signer, w.s.cfg.Origin, next-1, head)
		if err != nil {
			return nil, err
		}
		g.seals = append(g.seals, seal)
	}
	if len(g.events) == 0 && len(g.seals) == 0 {
		return nil, nil
	}
	if err := w.append(g); err != nil {
		return nil, err
	}
	w.s.acc.merge(added) // w.known is the accepted set
	g.dots = added
	w.next, w.head = next, head
	return g, nil
}

// append frames the record, appends it to the current segment and records
// each event's location.
func (w *writer) append(g *group) error {
	w.rb.finish(g.seals)
	frame := w.rb.framed()
	if err := w.maybeRotate(len(frame)); err != nil {
		return err
	}
	if w.s.ackedSeq.Load() == w.seq { // every earlier group is durable
		w.alone++
	} else {
		w.alone = 0
	}
	off, err := w.s.segs.appendRecord(frame, w.alone >= aloneGroups, !hasLocal(g.reqs))
	if err != nil {
		return err
	}
	segs := w.s.segs
	g.locs = make([]location, len(g.events))
	for i := range g.events {
		g.locs[i] = location{segment: segs.curID, offset: off + int64(w.rb.offsets[i]), length: uint32(w.rb.lengths[i])}
	}
	g.file, g.end = segs.cur, checkpoint{segs.curID, segs.curSize}
	return nil
}

func localEvent(in *event.Input, id uuid.UUID, origin string, seq uint64, now int64, prev event.Hash) *event.Event {
	e := &event.Event{
		ID: id, Device: origin, Seq: seq, TS: now,
		Type: in.Type, Schema: in.Schema, Payload: in.Payload, Blobs: in.Blobs, Prev: prev,
	}
	if in.HasTS {
		e.TS = in.TS
	}
	return e
}

// encodedSize bounds the bytes the events of reqs take in a record, as
// far as they can be told before building it: local inputs by their
// fields (origin is the local device), remote events by their encodings
// where known.
func encodedSize(reqs []*request, origin string) int {
	n := 10 // the seal count, a uvarint
	for _, r := range reqs {
		for i := range r.inputs {
			n += localSize(&r.inputs[i], origin) + 3 // and its length, a uvarint
		}
		for _, enc := range r.encoded {
			n += len(enc) + 3
		}
		n += len(r.seals) * (event.MaxSealLen + 2) // and its length
	}
	if hasLocal(reqs) {
		n += event.MaxSealLen + 2 // the seal over the new head
	}
	return n
}

// localSize bounds the encoding of the event made from in: its seq and
// timestamp take at most ten bytes each.
func localSize(in *event.Input, origin string) int {
	e := event.Event{Device: origin, Seq: math.MaxUint64, TS: math.MaxInt64,
		Type: in.Type, Schema: in.Schema, Payload: in.Payload, Blobs: in.Blobs}
	return e.EncodedLen()
}

func hasLocal(reqs []*request) bool {
	for _, r := range reqs {
		if len(r.inputs) > 0 {
			return true
		}
	}
	return false
}

// aloneGroups is how many groups in a row must be written alone for the
// log to count as serving one commit at a time.
const aloneGroups = 32

// maybeRotate starts a new segment if the next record would overflow this one.
func (w *writer) maybeRotate(size int) error {
	segs := w.s.segs
	if segs.curSize+int64(size) <= w.s.cfg.SegmentBytes || segs.curSize <= int64(len(segMagic)) {
		return nil
	}
	return segs.create(segs.curID + 1)
}

func failAll(reqs []*request, err error) {
	for _, r := range reqs {
		r.acks, r.applied, r.err = nil, nil, err
		close(r.done)
	}
}
