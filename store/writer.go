package store

import (
	"context"
	"fmt"
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

// request is one Ingest call travelling through the writer and syncer.
type request struct {
	inputs []event.Input
	acks   []Ack
	err    error
	done   chan struct{}
}

// group is one record written to a segment, waiting for its fdatasync.
type group struct {
	reqs    []*request
	events  []*event.Event
	locs    []location
	file    *os.File   // segment file holding the record
	end     checkpoint // log position just past the record
	head    event.Hash // hash of the local log's last event after this group
	lastSeq uint64     // seq of that event
}

// writer is the state of the writer goroutine.
type writer struct {
	s     *Store
	next  uint64     // next local seq
	head  event.Hash // hash of the local event at next-1
	ids   event.IDGen
	rb    recordBuilder
	frame []byte
}

// Ingest stores inputs as new local events and returns their acks in
// order, once they are durable. A request is all-or-nothing: its events are
// written in one record. If ctx ends before the commit, Ingest returns
// ctx.Err() and the events may or may not have been stored.
func (s *Store) Ingest(ctx context.Context, inputs []event.Input) ([]Ack, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	r := &request{inputs: inputs, done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return nil, err
	}
	select {
	case <-r.done:
		return r.acks, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
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
	origin := s.cfg.Origin
	w.next = s.ctx.Highest(origin) + 1
	if w.next > 1 {
		e, err := s.Get(crdt.Dot{Origin: origin, Seq: w.next - 1})
		if err != nil {
			return fmt.Errorf("store: read local head: %w", err)
		}
		w.head = e.Hash()
	}
	return s.c.ensureSeal(w.next-1, w.head)
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
	reqs := []*request{first}
	n := len(first.inputs)
collect:
	for n < w.s.cfg.MaxGroupEvents {
		select {
		case r := <-w.s.reqs:
			reqs = append(reqs, r)
			n += len(r.inputs)
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
	w.s.groups <- g
}

// write assigns seqs, ids and chain hashes and appends one record.
func (w *writer) write(reqs []*request, n int) (*group, error) {
	now := w.s.cfg.Clock.Now().UnixMilli()
	g := &group{reqs: reqs, events: make([]*event.Event, 0, n)}
	next, head := w.next, w.head
	w.rb.reset(n)
	for _, r := range reqs {
		r.acks = make([]Ack, 0, len(r.inputs))
		for i := range r.inputs {
			in := &r.inputs[i]
			e := &event.Event{
				ID: w.ids.Next(now), Device: w.s.cfg.Origin, Seq: next, TS: now,
				Type: in.Type, Schema: in.Schema, Payload: in.Payload, Blobs: in.Blobs, Prev: head,
			}
			if in.HasTS {
				e.TS = in.TS
			}
			head = w.rb.addEvent(e)
			next++
			g.events = append(g.events, e)
			r.acks = append(r.acks, Ack{EventID: e.ID, DeviceID: e.Device, Seq: e.Seq})
		}
	}
	w.frame = frame(w.frame, w.rb.finish(nil))
	if err := w.maybeRotate(len(w.frame)); err != nil {
		return nil, err
	}
	off, err := w.s.segs.appendRecord(w.frame)
	if err != nil {
		return nil, err
	}
	segs := w.s.segs
	g.locs = make([]location, len(g.events))
	for i := range g.events {
		g.locs[i] = location{segment: segs.curID, offset: off + int64(w.rb.offsets[i]), length: uint32(w.rb.lengths[i])}
	}
	g.file, g.end = segs.cur, checkpoint{segs.curID, segs.curSize}
	g.head, g.lastSeq = head, next-1
	w.next, w.head = next, head
	return g, nil
}

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
		r.acks, r.err = nil, err
		close(r.done)
	}
}
