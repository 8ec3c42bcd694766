package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// handleInstall runs an Install request in the writer goroutine, as a
// group of its own: it checks the store can adopt the snapshot (the writer
// knows every dot written, committed or not), makes the snapshot's dots
// known and, when the snapshot carries this node's own log further than it
// wrote, moves the local chain's head to the floor, then appends an empty
// record so the group flows through fdatasync and the indexer in order.
func (w *writer) handleInstall(r *request) {
	h := r.install
	fail := func(err error) {
		r.err = err
		close(r.done)
	}
	if err := w.s.Err(); err != nil {
		fail(err)
		return
	}
	if err := w.s.checkInstall(w.known, h); err != nil {
		fail(err)
		return
	}
	own := w.s.cfg.Origin
	next, head := w.next, w.head
	if hi := h.Context.Highest(own); hi >= next {
		f, ok := floorOf(h, own)
		if !ok || f.Seq != hi {
			fail(fmt.Errorf("%w: it holds this node's log up to %d without its events", ErrBadSnapshot, hi))
			return
		}
		next, head = hi+1, f.Head
	}
	g := &group{reqs: []*request{r}, install: h}
	w.rb.reset(w.s.segs.phase())
	if err := w.append(g); err != nil {
		fail(err)
		return
	}
	w.s.acc.merge(h.Context) // w.known is the accepted set
	w.next, w.head = next, head
	w.seq++
	g.seq = w.seq
	w.s.groups <- g
}

// commitInstall commits a batch holding an install group: the groups
// before it synchronously, then the install once every earlier commit is
// applied, then the rest. It reports false when batch has no install.
func (c *syncer) commitInstall(batch []*group) bool {
	i := 0
	for i < len(batch) && batch[i].install == nil {
		i++
	}
	if i == len(batch) {
		return false
	}
	if i > 0 {
		if hasRedactionEvent(batch[:i]) {
			c.inflight.Wait() // redactions read their targets back: see every earlier commit
		}
		tb, err := c.index(batch[:i])
		if err == nil {
			err = tb.txn.Commit()
		}
		if err != nil {
			c.s.fail(fmt.Errorf("store: commit index: %w", err))
			return true
		}
		reds, wake := c.takeRedactions(), c.red.wake
		c.red.wake = false
		c.inflight.Wait() // earlier commits publish first
		c.publish(batch[:i], reds, wake)
	}
	c.inflight.Wait()
	if err := c.install(batch[i]); err != nil {
		c.s.fail(err)
		return true
	}
	if rest := batch[i+1:]; len(rest) > 0 {
		c.commit(rest)
	}
	return true
}

// install writes the snapshot's context, aggregates and floors, then drops
// the join marker and publishes the new context.
func (c *syncer) install(g *group) error {
	h := g.install
	c.ctx.Merge(h.Context)
	wb := c.s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, o := range h.Context.Origins() {
		if err := wb.Set(contextKey(o), c.ctx.EncodeOrigin(o)); err != nil {
			return fmt.Errorf("store: install context: %w", err)
		}
	}
	for _, row := range h.Aggs {
		b, err := row.Agg.MarshalBinary()
		if err == nil {
			err = wb.Set(aggKey(row.Key), b)
		}
		if err != nil {
			return fmt.Errorf("store: install aggregates: %w", err)
		}
	}
	for i := range h.Floors {
		if err := wb.Set(floorKey(h.Floors[i].Origin), h.Floors[i].AppendBinary(nil)); err != nil {
			return fmt.Errorf("store: install floors: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: install: %w", err)
	}
	// The cached aggregates predate the snapshot's, which include them.
	clear(c.aggs.m)
	c.aggs.fold = aggFold{}
	c.aggs.dirty = c.aggs.dirty[:0]
	if err := c.s.db.Sync(); err != nil {
		return fmt.Errorf("store: install: %w", err)
	}
	err := c.s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyCheckpoint, g.end.encode()); err != nil {
			return err
		}
		return txn.Delete(keyJoining)
	})
	if err != nil {
		return fmt.Errorf("store: finish install: %w", err)
	}
	c.s.setFloors(h.Floors)
	c.s.mu.Lock()
	c.s.ctx.Merge(h.Context)
	c.s.mu.Unlock()
	c.publish([]*group{g}, nil, false)
	return nil
}
