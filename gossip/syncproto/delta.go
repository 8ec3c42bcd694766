package syncproto

import (
	"encoding/binary"
	"fmt"

	"github.com/rumor-sync/rumor/event"
)

// DELTA payload, protocol versions 1 and 2:
//
//	delta = n:uvarint (len:uvarint event:len)*n flag:byte [len:uvarint seal:len]
//
// n >= 1 canonical event encodings (event.Event.AppendBinary) of one origin
// with contiguous seqs, ascending; flag is 0 (no seal) or 1 (a seal follows,
// in event.Seal.AppendBinary form, covering the last event). In version 2
// an event may be in redacted form (its encoding starts with byte 2: the
// signed redaction, which holds the header, the original's hash and Prev);
// version 1 carries whole events only, and its decoder rejects the
// redacted form as malformed.

const (
	minEventLen = 60 // no canonical event encoding is shorter
	maxSealLen  = event.MaxSealLen
)

// Delta is a batch of contiguous events of one origin, at most
// SessionConfig.MaxBatchBytes of them, plus the origin's seal over the last
// one when this frame ends a sealed run. A run may span several DELTA
// frames; only its last frame carries the seal, and the receiver verifies
// the whole run from the seal backwards before applying any of it.
//
// A Delta handed out in Ready.Send caches its encoding: do not modify it.
type Delta struct {
	Events []*event.Event // contiguous events of one origin, ascending
	Seal   *event.Seal    // the origin's seal over the last event, or nil
	enc    []byte         // cached payload encoding, set by the sending session
	encV   uint8          // the protocol version enc is in
	wire   int            // payload length when decoded from a frame
	// raw[i] is Events[i]'s encoding within the decoded payload (canonical:
	// the decoder accepts nothing else), kept to hash and store as it is.
	raw   [][]byte
	valid bool // decoded from a frame: structure and events already checked
}

// Type returns TypeDelta.
func (*Delta) Type() Type { return TypeDelta }

// MarshalBinary returns the DELTA payload. It checks the structure (one
// origin, contiguous, seal over the last event) and the sizes; the events
// themselves must be valid (event.Event.Validate).
func (d *Delta) MarshalBinary() ([]byte, error) { return d.appendPayload(nil, Version) }

func (d *Delta) appendPayload(b []byte, v uint8) ([]byte, error) {
	if d.enc != nil && d.encV == v {
		return append(b, d.enc...), nil
	}
	return d.encode(b, nil, v)
}

// encode appends the payload in version v to b, using tmp as scratch
// space for one event.
func (d *Delta) encode(b, tmp []byte, v uint8) ([]byte, error) {
	if err := checkDelta(d.Events, d.Seal); err != nil {
		return nil, err
	}
	if v < Version2 {
		for _, e := range d.Events {
			if e.Redacted() {
				return nil, fmt.Errorf("syncproto: protocol version %d cannot carry the redacted event %s/%d", v, e.Device, e.Seq)
			}
		}
	}
	start := len(b)
	b = binary.AppendUvarint(b, uint64(len(d.Events)))
	for _, e := range d.Events {
		tmp = e.AppendBinary(tmp[:0])
		if len(tmp) > event.MaxEncodedLen {
			return nil, fmt.Errorf("syncproto: event %s/%d encodes to %d bytes, limit %d", e.Device, e.Seq, len(tmp), event.MaxEncodedLen)
		}
		b = binary.AppendUvarint(b, uint64(len(tmp)))
		b = append(b, tmp...)
	}
	if d.Seal == nil {
		b = append(b, 0)
	} else {
		tmp = d.Seal.AppendBinary(tmp[:0])
		if len(tmp) > maxSealLen {
			return nil, fmt.Errorf("syncproto: seal encodes to %d bytes, limit %d", len(tmp), maxSealLen)
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(tmp)))
		b = append(b, tmp...)
	}
	if n := len(b) - start; n > MaxFrame {
		return nil, fmt.Errorf("syncproto: DELTA payload of %d bytes exceeds %d", n, MaxFrame)
	}
	return b, nil
}

// UnmarshalBinary decodes a DELTA payload of the newest version (keeping
// references into b, which the caller must not modify afterwards),
// validating every event (event.Decode) and the structure; it does not
// verify the seal's signature, the hash chain or a redaction's signature,
// which need the whole run or the replica's policy.
func (d *Delta) UnmarshalBinary(b []byte) error { return d.decode(b, Version) }

// decode decodes a DELTA payload of version v.
func (d *Delta) decode(b []byte, v uint8) error {
	r := reader{b: b, what: "DELTA"}
	if len(b) > MaxFrame {
		r.fail("payload of %d bytes exceeds %d", len(b), MaxFrame)
	}
	n := r.uvarint("event count")
	switch {
	case r.err != nil:
	case n == 0:
		r.fail("no events")
	case n > uint64(r.remaining()/minEventLen):
		r.fail("%d events cannot fit in %d bytes", n, r.remaining())
	}
	if r.err != nil {
		return r.err
	}
	events := make([]*event.Event, 0, n)
	raws := make([][]byte, 0, n)
	var dec event.Decoder  // one origin: its strings are shared; payloads alias b
	var slab []event.Event // events are allocated a few hundred at a time
	for i := uint64(0); i < n && r.err == nil; i++ {
		l := r.uvarint("event length")
		if r.err == nil && l > event.MaxEncodedLen {
			r.fail("event %d of %d bytes exceeds %d", i, l, event.MaxEncodedLen)
		}
		raw := r.bytes(l, "event")
		if r.err != nil {
			break
		}
		if len(slab) == 0 {
			slab = make([]event.Event, min(n-i, 256))
		}
		e := &slab[0]
		slab = slab[1:]
		if err := dec.DecodeInto(e, raw); err != nil {
			return fmt.Errorf("%w: DELTA event %d: %w", ErrMalformed, i, err)
		}
		if e.Redacted() && v < Version2 {
			return fmt.Errorf("%w: DELTA event %d is redacted, which protocol version %d cannot carry", ErrMalformed, i, v)
		}
		events = append(events, e)
		raws = append(raws, raw)
	}
	seal := decodeSealField(&r)
	if err := r.finish(); err != nil {
		return err
	}
	if err := checkDelta(events, seal); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	*d = Delta{Events: events, Seal: seal, wire: len(b), valid: true, raw: raws}
	return nil
}

func decodeSealField(r *reader) *event.Seal {
	switch flag := r.byte("seal flag"); {
	case r.err != nil || flag == 0:
		return nil
	case flag != 1:
		r.fail("seal flag %d", flag)
		return nil
	}
	l := r.uvarint("seal length")
	if r.err == nil && l > maxSealLen {
		r.fail("seal of %d bytes exceeds %d", l, maxSealLen)
	}
	raw := r.bytes(l, "seal")
	if r.err != nil {
		return nil
	}
	s := new(event.Seal)
	if err := s.UnmarshalBinary(raw); err != nil {
		r.fail("seal: %v", err)
		return nil
	}
	return s
}

// checkDelta checks a delta's structure: at least one event, one origin,
// contiguous ascending seqs, and a seal (if any) of that origin over the
// last event.
func checkDelta(events []*event.Event, seal *event.Seal) error {
	if len(events) == 0 {
		return fmt.Errorf("syncproto: DELTA without events")
	}
	first := events[0]
	if first == nil {
		return fmt.Errorf("syncproto: DELTA with a nil event")
	}
	for i, e := range events[1:] {
		prev := events[i]
		switch {
		case e == nil:
			return fmt.Errorf("syncproto: DELTA with a nil event")
		case e.Device != first.Device:
			return fmt.Errorf("syncproto: DELTA mixes origins %q and %q", first.Device, e.Device)
		case prev.Seq == ^uint64(0) || e.Seq != prev.Seq+1:
			return fmt.Errorf("syncproto: DELTA not contiguous: seq %d after %d", e.Seq, prev.Seq)
		}
	}
	last := events[len(events)-1]
	if seal != nil && (seal.Origin != first.Device || seal.Seq != last.Seq) {
		return fmt.Errorf("syncproto: DELTA seal %s/%d does not cover its last event %s/%d",
			seal.Origin, seal.Seq, first.Device, last.Seq)
	}
	return nil
}

// payload returns m's payload in version v, without copying a cached one.
func payload(m Message, v uint8) ([]byte, error) {
	if d, ok := m.(*Delta); ok && d.enc != nil && d.encV == v {
		return d.enc, nil
	}
	return m.appendPayload(nil, v)
}

// payloadLen is the length of m's payload encoding in version v (0 if it
// cannot be encoded).
func payloadLen(m Message, v uint8) int {
	switch d := m.(type) {
	case *Delta:
		if d.enc != nil && d.encV == v {
			return len(d.enc)
		}
		if d.wire > 0 {
			return d.wire
		}
	case *SyncReq:
		return len(d.Context)
	case *Done:
		return 0
	}
	b, err := m.appendPayload(nil, v)
	if err != nil {
		return 0
	}
	return len(b)
}
