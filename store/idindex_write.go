package store

import "github.com/google/uuid"

// addID adds the event of the last origin (t.lastNum) at seq with id to
// the open event_id bucket, first writing that bucket if the event cannot
// join it (another origin or millisecond, a seq not above its last, or a
// full bucket). No read: two events sharing an id get one entry each.
func (t *txnBatch) addID(id uuid.UUID, seq uint64) error {
	if t.ids.fits(t.lastNum, seq, id) {
		t.ids.add(id, seq)
		return nil
	}
	if err := t.flushID(); err != nil {
		return err
	}
	t.ids.reset(t.lastNum, seq, id)
	return nil
}

// flushID writes the open event_id bucket into the transaction.
func (t *txnBatch) flushID() error {
	if t.ids.n == 0 {
		return nil
	}
	err := t.set(t.ids.key(), t.ids.val)
	t.ids.n, t.ids.val = 0, nil // the transaction holds the old slice until it commits
	return err
}
