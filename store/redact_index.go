package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// How a redaction takes effect, in the indexer's transaction (so that it
// commits with the context, exactly once, and is replayed idempotently):
//
//   - A redaction event (an event of type event.RedactionType) whose
//     redaction passes this store's policy records the redaction (x r, and
//     x l for sinks), unless its target already has one (the first
//     redaction of a dot is the one in effect). If the target is held whole,
//     its share of the aggregates is taken back (crdt.Agg.Remove), its blob
//     references are dropped (blobs left without one are queued for
//     release, x g) and its bytes are queued for erasure (x e). A redaction
//     event that does not pass is still stored (it is an authentic event of
//     its origin's log, and peers with another operator list may apply it)
//     but changes nothing here.
//   - An event that arrives in redacted form records its redaction and
//     counts in the aggregates as redacted (crdt.Agg.ObserveRedacted).
//   - A whole event is indexed as usual, with its blob references (x b).
//
// Either order of a redaction and its target ends in the same state.

// indexRedactions is the indexer's redaction state.
type indexRedactions struct {
	m     map[crdt.Dot]*event.Redaction // committed and in the open transaction
	fresh []*event.Redaction            // recorded since the last publish
	next  uint64                        // number of the next x l entry
	wake  bool                          // an erasure was queued since the last publish
}

func (ir *indexRedactions) init(s *Store) error {
	ir.m = s.red.snapshot()
	ir.next = 1
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xLog}, Reverse: true})
		defer it.Close()
		it.Seek(logKey(^uint64(0)))
		if it.Valid() {
			k := it.Item().Key()
			if len(k) != 10 {
				return fmt.Errorf("store: corrupt redaction log key %x", k)
			}
			var n uint64
			for _, b := range k[2:] {
				n = n<<8 | uint64(b)
			}
			ir.next = n + 1
		}
		return nil
	})
}

// takeRedactions returns the redactions recorded since the last call, for
// readers.
func (c *syncer) takeRedactions() []*event.Redaction {
	out := c.red.fresh
	c.red.fresh = nil
	return out
}

// hasRedactionEvent reports whether a batch holds a redaction event, whose
// target the indexer may have to read back: such a batch waits for the
// earlier asynchronous commits, so that its transaction sees them.
func hasRedactionEvent(batch []*group) bool {
	for _, g := range batch {
		for _, e := range g.events {
			if e.Type == event.RedactionType && e.Redaction == nil {
				return true
			}
		}
	}
	return false
}

// indexContent applies e, a new dot stored at loc, to the aggregates and
// the blob and redaction records.
func (t *txnBatch) indexContent(e *event.Event, d crdt.Dot, loc location, num number) error {
	switch r := t.c.red.m[d]; {
	case e.Redaction != nil:
		if err := t.recordRedaction(e.Redaction); err != nil {
			return err
		}
		if err := t.c.aggs.observeRedacted(t.txn, e); err != nil {
			return err
		}
	case r != nil && (r.Targets(e) || r.MatchesErased(e)): // whole, after its redaction: normally written redacted
		if err := t.c.aggs.observeRedacted(t.txn, e); err != nil {
			return err
		}
		if err := t.queueErase(d, loc); err != nil {
			return err
		}
	default:
		if err := t.c.aggs.apply(t.txn, e, num); err != nil {
			return err
		}
		if err := t.addBlobRefs(e, d); err != nil {
			return err
		}
	}
	if e.Type == event.RedactionType && e.Redaction == nil {
		return t.applyRedactionEvent(e)
	}
	return nil
}

// applyRedactionEvent lets the redaction e carries take effect, if it
// passes the policy and its target has none yet.
func (t *txnBatch) applyRedactionEvent(e *event.Event) error {
	s := t.c.s
	r, err := s.checkRedactionEvent(e)
	if err != nil {
		s.log.Warn("redaction not applied", "event", e.ID.String(), "device", e.Device, "seq", e.Seq, "err", err)
		return nil
	}
	d := redactionDot(r)
	if t.c.red.m[d] != nil {
		return nil
	}
	if t.c.ctx.Contains(d) {
		if t.pruned(d) {
			return t.recordPrunedRedaction(r)
		}
		held, loc, err := t.readHeld(d)
		if err != nil && t.pruned(d) { // pruned while this batch was read
			return t.recordPrunedRedaction(r)
		}
		if err != nil {
			return err
		}
		if held.Redaction == nil {
			// An erased copy: the index is being rebuilt from a log whose
			// payload was already erased.
			if !r.Targets(held) && !r.MatchesErased(held) {
				s.log.Error("redaction does not match the held event (forked origin?); not applied",
					"device", d.Origin, "seq", d.Seq, "redactor", r.Redactor)
				return nil
			}
			if err := t.c.aggs.remove(t.txn, held, s); err != nil {
				return err
			}
			if err := t.dropBlobRefs(held, d); err != nil {
				return err
			}
			if err := t.queueErase(d, loc); err != nil {
				return err
			}
		}
	}
	return t.recordRedaction(r)
}

// pruned reports whether d is at or below its origin's floor: in the
// context, but its event is no longer held (pruned, or skipped by a
// snapshot join).
func (t *txnBatch) pruned(d crdt.Dot) bool { return d.Seq <= t.c.s.Floor(d.Origin) }

// recordPrunedRedaction records r, whose target was pruned here: there is
// no payload or blob reference left to remove, and no value to take out
// of the aggregates, which keep the event's share as they keep every
// pruned event's.
func (t *txnBatch) recordPrunedRedaction(r *event.Redaction) error {
	t.c.s.log.Info("redaction of an event pruned here: its share stays in the aggregates",
		"device", r.Device, "seq", r.Seq, "redactor", r.Redactor)
	return t.recordRedaction(r)
}

// recordRedaction writes r as the redaction of its target unless the
// target has one.
func (t *txnBatch) recordRedaction(r *event.Redaction) error {
	d := redactionDot(r)
	if t.c.red.m[d] != nil {
		return nil
	}
	if err := t.set(dotKey(xRecord, d), r.AppendBinary(nil)); err != nil {
		return err
	}
	if err := t.set(logKey(t.c.red.next), dotKey(xRecord, d)[2:]); err != nil {
		return err
	}
	t.c.red.next++
	t.c.red.m[d] = r
	t.c.red.fresh = append(t.c.red.fresh, r)
	return nil
}

func (t *txnBatch) queueErase(d crdt.Dot, loc location) error {
	t.c.red.wake = true
	return t.set(dotKey(xErase, d), loc.encode())
}

// readHeld reads the held event at d and its location, as stored (not as
// readers see it). Runs built in this transaction are flushed first, so
// that an event indexed earlier in it is found.
func (t *txnBatch) readHeld(d crdt.Dot) (*event.Event, location, error) {
	if origin, r, ok := t.runs.flush(); ok {
		if err := t.putRun(origin, r); err != nil {
			return nil, location{}, err
		}
	}
	r, found, err := findRun(t.txn, d)
	if err != nil {
		return nil, location{}, err
	}
	if !found {
		return nil, location{}, fmt.Errorf("store: held event %s/%d has no index entry", d.Origin, d.Seq)
	}
	loc := r.locate(d.Seq)
	b, err := t.c.s.segs.readAt(loc.segment, loc.offset, loc.length)
	if err != nil {
		return nil, location{}, err
	}
	e := new(event.Event)
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, location{}, fmt.Errorf("store: corrupt event %s/%d: %w", d.Origin, d.Seq, err)
	}
	return e, loc, nil
}

// remove takes a held event's share back from every window's aggregate.
func (a *aggCache) remove(txn *badger.Txn, e *event.Event, s *Store) error {
	v, has := payloadValue(e.Payload)
	for _, w := range crdt.Windows {
		agg, err := a.get(txn, crdt.AggKey{Type: e.Type, Window: w, Start: w.Start(e.TS)})
		if err != nil {
			return err
		}
		if !agg.Remove(v, has) {
			s.log.Error("aggregate does not hold a redacted event's share", "device", e.Device, "seq", e.Seq, "window", w.String())
		}
	}
	return nil
}

// observeRedacted counts an event that arrived redacted in every window's
// aggregate.
func (a *aggCache) observeRedacted(txn *badger.Txn, e *event.Event) error {
	for _, w := range crdt.Windows {
		agg, err := a.get(txn, crdt.AggKey{Type: e.Type, Window: w, Start: w.Start(e.TS)})
		if err != nil {
			return err
		}
		agg.ObserveRedacted([]byte(e.Device))
	}
	return nil
}
