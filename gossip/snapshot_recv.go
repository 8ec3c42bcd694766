package gossip

import (
	"fmt"
	"strings"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// maxSnapPending bounds the events of an unsealed run the joiner buffers.
const maxSnapPending = 64 << 20

// snapReceiver checks a snapshot answer frame by frame, without I/O: the
// frames in order, each within its limits and the whole within maxBytes;
// every floor a valid seal within the context's contiguous prefix; the
// aggregates' keys ascending; every run of events authentic (verified back
// from its seal, and linked to the floor or to the run before it), inside
// the context, above the floors and in (origin, seq) order; and at END,
// that the events received are exactly the context's dots above the
// floors. Verified runs go to apply as they complete; the snapshot is
// valid only once handle reports done.
type snapReceiver struct {
	maxBytes int64
	apply    func(events []*event.Event, seal *event.Seal) error

	total     int64
	stage     byte
	snap      Snapshot
	floors    map[string]event.Seal
	pend      []*event.Event
	pendBytes int
	last      crdt.Dot   // the last event of the last run
	lastHash  event.Hash // its hash
	got       *crdt.Context
	events    uint64
}

func newSnapReceiver(maxBytes int64, apply func([]*event.Event, *event.Seal) error) *snapReceiver {
	return &snapReceiver{maxBytes: maxBytes, apply: apply, floors: map[string]event.Seal{}, got: crdt.NewContext()}
}

// handle takes one frame; done reports a complete, valid snapshot.
func (r *snapReceiver) handle(kind byte, payload []byte) (done bool, err error) {
	r.total += int64(len(payload)) + 11
	if r.total > r.maxBytes {
		return false, fmt.Errorf("%w: answer exceeds %d bytes", ErrBadSnapshot, r.maxBytes)
	}
	if kind == snapError {
		return false, fmt.Errorf("gossip: the neighbour refused the snapshot: %s", strings.ToValidUTF8(string(payload), "?"))
	}
	if (kind == snapContext) != (r.stage == 0) || kind < r.stage {
		return false, fmt.Errorf("%w: frame kind %d after %d", ErrBadSnapshot, kind, r.stage)
	}
	r.stage = kind
	switch kind {
	case snapContext:
		r.snap.Context = crdt.NewContext()
		if err := r.snap.Context.UnmarshalBinary(payload); err != nil {
			return false, fmt.Errorf("%w: context: %v", ErrBadSnapshot, err)
		}
		return false, nil
	case snapFloors:
		return false, r.onFloors(payload)
	case snapAggs:
		return false, r.onAggs(payload)
	case snapDelta:
		return false, r.onDelta(payload)
	case snapEnd:
		return true, r.onEnd(payload)
	}
	return false, fmt.Errorf("%w: frame kind %d", ErrBadSnapshot, kind)
}

func (r *snapReceiver) onFloors(payload []byte) error {
	floors, err := decodeFloors(payload)
	if err != nil {
		return err
	}
	for _, f := range floors {
		if n := len(r.snap.Floors); n > 0 && f.Origin <= r.snap.Floors[n-1].Origin {
			return fmt.Errorf("%w: floors not strictly ascending at %s", ErrBadSnapshot, f.Origin)
		}
		if f.Seq > r.snap.Context.Max(f.Origin) {
			return fmt.Errorf("%w: floor %s/%d beyond the context's contiguous %d", ErrBadSnapshot, f.Origin, f.Seq, r.snap.Context.Max(f.Origin))
		}
		if err := f.Verify(); err != nil {
			return fmt.Errorf("%w: floor of %s: %v", ErrBadSnapshot, f.Origin, err)
		}
		r.snap.Floors = append(r.snap.Floors, f)
		r.floors[f.Origin] = f
	}
	return nil
}

func (r *snapReceiver) onAggs(payload []byte) error {
	aggs, err := decodeAggs(payload)
	if err != nil {
		return err
	}
	for _, a := range aggs {
		if n := len(r.snap.Aggs); n > 0 && r.snap.Aggs[n-1].Key.Compare(a.Key) >= 0 {
			return fmt.Errorf("%w: aggregates not strictly ascending at %v", ErrBadSnapshot, a.Key)
		}
		r.snap.Aggs = append(r.snap.Aggs, a)
	}
	return nil
}

func (r *snapReceiver) onDelta(payload []byte) error {
	var d syncproto.Delta
	if err := d.UnmarshalBinary(payload); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	first := d.Events[0]
	if n := len(r.pend); n > 0 {
		if p := r.pend[n-1]; first.Device != p.Device || first.Seq != p.Seq+1 {
			return fmt.Errorf("%w: %s/%d does not continue the pending run", ErrBadSnapshot, first.Device, first.Seq)
		}
	} else if !r.last.Less(crdt.Dot{Origin: first.Device, Seq: first.Seq}) && r.events > 0 {
		return fmt.Errorf("%w: %s/%d out of order", ErrBadSnapshot, first.Device, first.Seq)
	}
	floor := r.floors[first.Device].Seq
	for _, e := range d.Events {
		if e.Seq <= floor || !r.snap.Context.Contains(crdt.Dot{Origin: e.Device, Seq: e.Seq}) {
			return fmt.Errorf("%w: event %s/%d is below its floor or outside the context", ErrBadSnapshot, e.Device, e.Seq)
		}
	}
	if r.pendBytes += len(payload); r.pendBytes > maxSnapPending {
		return fmt.Errorf("%w: an unsealed run beyond %d bytes", ErrBadSnapshot, maxSnapPending)
	}
	r.pend = append(r.pend, d.Events...)
	if d.Seal == nil {
		return nil
	}
	return r.sealRun(d.Seal)
}

// sealRun verifies the pending run, now sealed, and applies it.
func (r *snapReceiver) sealRun(seal *event.Seal) error {
	run := r.pend
	r.pend, r.pendBytes = nil, 0
	first := run[0]
	var prev *event.Hash
	switch f, ok := r.floors[first.Device]; {
	case ok && f.Seq+1 == first.Seq:
		prev = &f.Head
	case r.events > 0 && r.last.Origin == first.Device && r.last.Seq+1 == first.Seq:
		prev = &r.lastHash
	}
	hashes, err := syncproto.VerifyRun(prev, run, seal)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	last := run[len(run)-1]
	r.got.AddRange(crdt.Range{Origin: first.Device, From: first.Seq, To: last.Seq})
	r.last, r.lastHash = crdt.Dot{Origin: last.Device, Seq: last.Seq}, hashes[len(hashes)-1]
	r.events += uint64(len(run))
	return r.apply(run, seal)
}

// onEnd checks the counts and that every dot of the context above its
// floor came.
func (r *snapReceiver) onEnd(payload []byte) error {
	c, err := decodeEnd(payload)
	if err != nil {
		return err
	}
	if len(r.pend) > 0 {
		return fmt.Errorf("%w: END inside an unsealed run", ErrBadSnapshot)
	}
	if c.floors != uint64(len(r.snap.Floors)) || c.aggs != uint64(len(r.snap.Aggs)) || c.events != r.events {
		return fmt.Errorf("%w: END counts %+v, received %d floors, %d aggregates, %d events",
			ErrBadSnapshot, c, len(r.snap.Floors), len(r.snap.Aggs), r.events)
	}
	want := crdt.NewContext()
	for _, rg := range r.snap.Context.Ranges() {
		if f := r.floors[rg.Origin].Seq; f >= rg.From {
			rg.From = f + 1
		}
		want.AddRange(rg)
	}
	if !want.Equal(r.got) {
		return fmt.Errorf("%w: the events received are not the context above the floors", ErrBadSnapshot)
	}
	return nil
}
