package syncproto

import (
	"errors"

	"github.com/rumor-sync/rumor/event"
)

// Redactions is what a session needs of a replica that holds redacted
// events (event.Redaction.Stub). A Replica may implement it; a session
// over one that does not allows a redaction only by the event's own
// origin and never withholds anything.
type Redactions interface {
	// CheckRedaction verifies a redaction's signature and the redactor's
	// right under the replica's policy (event.Redaction.Check with its
	// operators). A forged or malformed redaction gives an error wrapping
	// event.ErrInvalid, one the policy does not allow an error wrapping
	// event.ErrNotAllowed.
	CheckRedaction(r *event.Redaction) error
	// FirstRedacted returns the lowest seq at or after from at which the
	// replica holds a redaction of origin's event (it may return a seq it
	// does not hold the event of: the session only uses it to stop runs
	// before it).
	FirstRedacted(origin string, from uint64) (uint64, bool)
	// SealBefore returns the newest seal the replica holds for origin
	// whose seq is below seq.
	SealBefore(origin string, seq uint64) (*event.Seal, bool)
}

// checkRedactions checks the redactions of the redacted events in a
// verified run. A forged one is a protocol violation. One this replica's
// policy does not allow is refused, which the peer, holding it under a
// different operator list, is not at fault for: the replica then applies
// only the events after the last refused one (they end with the run's
// seal; the ones before it have no seal of their own), so skip is the
// number of leading events of run not to apply.
func (s *Session) checkRedactions(run []*event.Event) (skip int, err error) {
	var n uint64
	for i, e := range run {
		if e.Redaction == nil {
			continue
		}
		var cerr error
		if s.red != nil {
			cerr = s.red.CheckRedaction(e.Redaction)
		} else {
			cerr = e.Redaction.Check(nil)
		}
		switch {
		case cerr == nil:
		case errors.Is(cerr, event.ErrNotAllowed):
			n, skip = n+1, i+1
		default:
			return 0, &ProtocolError{Code: CodeBadRedaction, Detail: "redacted " + e.Device, Err: cerr}
		}
	}
	s.res.Refused += n
	return skip, nil
}

// capV1 prepares the next run of a version 1 session, which cannot carry
// redacted events: it caps the run at the last held seal before the
// origin's next redacted event, or, when no seal lies between the run's
// start and that event, skips everything up to and including it (counted
// in Result.Withheld). It reports whether it skipped.
func (s *Session) capV1() bool {
	sn := &s.snd
	sn.capped = false
	if s.red == nil {
		return false
	}
	o, from := sn.cur.Origin, sn.cur.From
	k, ok := s.red.FirstRedacted(o, from)
	if !ok {
		return false
	}
	if seal, ok := s.red.SealBefore(o, k); ok && seal.Seq >= from {
		sn.cap, sn.capped = seal.Seq, true
		return false
	}
	s.res.Withheld += min(k, sn.cur.To) - from + 1
	if k >= sn.cur.To || k == ^uint64(0) {
		sn.active = false
	} else {
		sn.cur.From = k + 1
	}
	return true
}
