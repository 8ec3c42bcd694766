package store

import (
	"errors"
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// ReadRunEncoded is ReadRun without decoding: it returns the same events
// as their canonical encodings (event.Event.AppendBinary of what ReadRun
// returns, byte for byte), for a sender that passes them on as they are.
// maxBytes bounds the encodings' total length as in ReadRun.
func (s *Store) ReadRunEncoded(origin string, from, to uint64, maxBytes int) ([]event.Encoded, *event.Seal, error) {
	encs, seal, _, err := s.ReadRunEncodedInto(nil, nil, origin, from, to, maxBytes)
	return encs, seal, err
}

// ReadRunEncodedInto is ReadRunEncoded appending to encs[:0] and reading
// into buf (either may be nil; nil reads into new memory): a sender that
// copies each run out before reading the next reuses both. The encodings
// alias the returned buffer (buf, or a larger one when it was too small),
// which is the one to pass next time.
func (s *Store) ReadRunEncodedInto(encs []event.Encoded, buf []byte, origin string, from, to uint64, maxBytes int) ([]event.Encoded, *event.Seal, []byte, error) {
	seal, sealSeq, err := s.runSeal(origin, from, to)
	if err != nil {
		return nil, nil, buf, err
	}
	out := encs[:0]
	size, next := 0, from
	errFull := errors.New("full")
	s.waitIndexed()
	defer s.pr.readers.enter()()
	sc := scanner{s: s, q: Query{Device: origin, After: from - 1}, budget: maxBytes, buf: buf[:0:cap(buf)]}
	sc.encoded = func(e event.Encoded) error {
		if e.Seq != next || e.Seq > sealSeq {
			return errFull
		}
		if len(out) > 0 && size+len(e.Bytes) > maxBytes {
			return errFull
		}
		out = append(out, e)
		size += len(e.Bytes)
		sc.budget = max(maxBytes-size, 1) // what the next run may still add
		next++
		if e.Seq == sealSeq {
			return errFull
		}
		return nil
	}
	if err := s.scanOrigin(&sc); err != nil && !errors.Is(err, errFull) {
		return nil, nil, sc.buf, fmt.Errorf("store: read run of %s from %d: %w", origin, from, err)
	}
	if len(out) > 0 && out[len(out)-1].Seq == sealSeq {
		return out, &seal, sc.buf, nil
	}
	return out, nil, sc.buf, nil
}

// passEncoded hands the stored encoding of origin's event seq to the
// scanner's encoded callback, in the form a read returns: an event
// redacted after it was written is decoded and given in redacted form.
func (sc *scanner) passEncoded(origin string, seq uint64, enc []byte) error {
	if sc.s.red.get(crdt.Dot{Origin: origin, Seq: seq}) != nil {
		e := new(event.Event)
		if err := e.UnmarshalBinary(enc); err != nil {
			return fmt.Errorf("store: corrupt event %s/%d: %w", origin, seq, err)
		}
		enc = sc.s.view(e).AppendBinary(nil)
	}
	if len(enc) == 0 || (enc[0] != 1 && enc[0] != 2) {
		return fmt.Errorf("store: corrupt event %s/%d: encoding version %x", origin, seq, enc[:min(len(enc), 1)])
	}
	return sc.encoded(event.Encoded{Seq: seq, Bytes: enc})
}
