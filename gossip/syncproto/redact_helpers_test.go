package syncproto

import (
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// redactedCopy returns a copy of a batch's events with the i-th replaced by
// its redacted form, redacted by its origin o.
func redactedCopy(t testing.TB, o testOrigin, events []*event.Event, i int) testBatch {
	t.Helper()
	out := append([]*event.Event(nil), events...)
	out[i] = redact(t, o, events[i])
	return testBatch{events: out}
}

// redact returns the redacted form of e, redacted by the device whose key
// and id are by.
func redact(t testing.TB, by testOrigin, e *event.Event) *event.Event {
	t.Helper()
	r, err := event.NewRedaction(by.key, by.id, e, 1_800_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return r.Stub()
}

// redactLog returns batches with the events at the given seqs replaced by
// their redacted form, redacted by by; seals are unchanged, as redaction
// keeps every hash.
func redactLog(t testing.TB, by testOrigin, batches []testBatch, seqs ...uint64) []testBatch {
	t.Helper()
	out := make([]testBatch, len(batches))
	for i, b := range batches {
		out[i] = testBatch{events: append([]*event.Event(nil), b.events...), seal: b.seal}
		for j, e := range b.events {
			for _, s := range seqs {
				if e.Seq == s {
					out[i].events[j] = redact(t, by, e)
				}
			}
		}
	}
	return out
}
