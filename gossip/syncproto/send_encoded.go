package syncproto

import (
	"encoding/binary"

	"github.com/rumor-sync/rumor/event"
)

// EncodedReader is implemented by a Replica that can hand out a run as
// its stored encodings (store.Store does): a sending session then passes
// them on without decoding and re-encoding every event.
type EncodedReader interface {
	// ReadRunEncodedInto is ReadRun returning each event's canonical
	// encoding (event.Event.AppendBinary of what ReadRun returns),
	// appended to encs[:0] and read into buf (either may be nil): the
	// encodings alias the returned buffer, which the session passes to the
	// next call once it has copied them into a frame.
	ReadRunEncodedInto(encs []event.Encoded, buf []byte, origin string, from, to uint64, maxBytes int) ([]event.Encoded, *event.Seal, []byte, error)
}

// readDelta reads the next DELTA of origin o from seq from (ending at a
// seal at or after target, or sooner) and returns it with its event count
// and last seq.
func (s *Session) readDelta(o string, from, target uint64) (*Delta, int, uint64, error) {
	var encs []event.Encoded
	var events []*event.Event
	var seal *event.Seal
	sn := &s.snd
	if er, ok := s.r.(EncodedReader); ok {
		if sn.readBuf == nil { // room for a batch and the event that may go beyond it
			sn.readBuf = make([]byte, 0, s.cfg.MaxBatchBytes+64<<10)
		}
		var err error
		encs, seal, sn.readBuf, err = er.ReadRunEncodedInto(sn.readEncs, sn.readBuf, o, from, target, s.cfg.MaxBatchBytes)
		if err != nil {
			return nil, 0, 0, localError("read %s from %d: %w", o, from, err)
		}
		sn.readEncs = encs
	} else {
		var sl *event.Seal
		var err error
		if events, sl, err = s.r.ReadRun(o, from, target, s.cfg.MaxBatchBytes); err != nil {
			return nil, 0, 0, localError("read %s from %d: %w", o, from, err)
		}
		if err := checkRead(o, from, events, sl); err != nil {
			return nil, 0, 0, err
		}
		encs, seal = make([]event.Encoded, len(events)), sl
		for i, e := range events {
			encs[i] = event.Encoded{Seq: e.Seq, Bytes: e.AppendBinary(nil)}
		}
	}
	if err := checkReadEncoded(o, from, encs, seal); err != nil {
		return nil, 0, 0, err
	}
	d, err := newEncodedDelta(sn.spareSend, encs, seal, s.cfg.Version)
	sn.spareSend = nil
	if err != nil {
		return nil, 0, 0, localError("encode DELTA: %w", err)
	}
	d.Events = events // when read decoded, for a peer stepped in process
	return d, len(encs), encs[len(encs)-1].Seq, nil
}

// checkReadEncoded is checkRead for encodings: a contiguous run from from,
// and a seal (if any) of origin over its last event. That each encoding is
// of origin's event at its seq is the replica's promise; the receiver
// verifies every event anyway.
func checkReadEncoded(origin string, from uint64, encs []event.Encoded, seal *event.Seal) error {
	if len(encs) == 0 {
		return localError("replica holds %s/%d in its context but returned nothing (unsealed run?)", origin, from)
	}
	for i, e := range encs {
		if e.Seq != from+uint64(i) || len(e.Bytes) == 0 {
			return localError("replica returned a non-contiguous run of %s from %d", origin, from)
		}
	}
	last := encs[len(encs)-1]
	if seal != nil && (seal.Origin != origin || seal.Seq != last.Seq) {
		return localError("replica returned seal %s/%d for a run ending at %d", seal.Origin, seal.Seq, last.Seq)
	}
	return nil
}

// newEncodedDelta builds an outgoing DELTA of version v from encodings:
// the payload Delta.encode gives for the decoded events, in buf when it is
// large enough. The Delta carries only its encoding (Events is nil): it is
// for sending.
func newEncodedDelta(buf []byte, encs []event.Encoded, seal *event.Seal, v uint8) (*Delta, error) {
	size := uvarintLen(uint64(len(encs))) + 2 + maxSealLen
	for _, e := range encs {
		size += uvarintLen(uint64(len(e.Bytes))) + len(e.Bytes)
	}
	// Built in its own buffer, which the Delta keeps: no copy.
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	b := binary.AppendUvarint(buf[:0], uint64(len(encs)))
	for _, e := range encs {
		if e.Redacted() && v < Version2 {
			return nil, localError("protocol version %d cannot carry the redacted event at seq %d", v, e.Seq)
		}
		if len(e.Bytes) > event.MaxEncodedLen {
			return nil, localError("event at seq %d encodes to %d bytes, limit %d", e.Seq, len(e.Bytes), event.MaxEncodedLen)
		}
		b = binary.AppendUvarint(b, uint64(len(e.Bytes)))
		b = append(b, e.Bytes...)
	}
	b = appendSealField(b, seal)
	if len(b) > MaxFrame {
		return nil, localError("DELTA payload of %d bytes exceeds %d", len(b), MaxFrame)
	}
	return &Delta{Seal: seal, enc: b, encV: v}, nil
}

// appendSealField appends a DELTA's seal flag and seal.
func appendSealField(b []byte, seal *event.Seal) []byte {
	if seal == nil {
		return append(b, 0)
	}
	enc := seal.AppendBinary(nil)
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(enc)))
	return append(b, enc...)
}

// Sent tells the session that m, a message of one of its Readys, has been
// written out and will not be used again: the session may build a later
// frame in its memory. A driver that keeps messages (to resend, to
// reorder) does not call it.
func (s *Session) Sent(m Message) {
	if d, ok := m.(*Delta); ok && d.enc != nil && cap(d.enc) > cap(s.snd.spareSend) {
		s.snd.spareSend, d.enc = d.enc[:0], nil
	}
}
