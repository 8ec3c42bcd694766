package store

import (
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// The writer keeps its own map of redactions, committed and in flight
// (writer.redactions), so that a whole event arriving after its redaction
// is written in redacted form: its payload never reaches the disk here.

// writeForm returns the form in which the remote event e is written: its
// redacted form when a redaction of it is known, else e.
func (w *writer) writeForm(e *event.Event) *event.Event {
	if e.Redaction != nil || len(w.redactions) == 0 {
		return e
	}
	r := w.redactions[crdt.Dot{Origin: e.Device, Seq: e.Seq}]
	if r == nil || !r.Targets(e) {
		return e
	}
	return r.Stub()
}

// note records the redaction e carries or is, if it takes effect here:
// the first redaction of a dot is the one that counts. It reports whether
// e is a redaction or a redacted event (valid or not).
func (w *writer) note(e *event.Event) bool {
	r := e.Redaction
	if r == nil {
		if e.Type != event.RedactionType {
			return false
		}
		var err error
		if r, err = w.s.checkRedactionEvent(e); err != nil {
			return true // the indexer logs it
		}
	}
	d := redactionDot(r)
	if _, ok := w.redactions[d]; !ok {
		w.redactions[d] = r
	}
	return true
}
