package store

import (
	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Pruning and redaction. The redaction code keeps two kinds of entries
// per event besides the redaction record itself:
//
//   - x b (blob references) of every held whole event. Prune deletes those
//     of the events it removes (in the same write batch as their index
//     runs), so that a blob only pruned events referenced is not held
//     back by them when a redaction, or UnreferencedBlobs, asks whether
//     anything still references it.
//   - x e (bytes still to erase) of a redacted event held whole. These go
//     through the eraser, not Prune: the bytes of a pruned event stay on
//     disk as long as its segment does (other origins' events keep a
//     segment alive), and they must still be erased there. After its
//     segments are reclaimed, Prune runs an erasure pass, which erases
//     the queued events whose segment is still there and drops the
//     entries of those whose segment is gone (the eraser never opens a
//     deleted segment: segment ids are never reused, and a missing file
//     counts as erased). A pruned event's entry therefore does not outlive
//     the Prune that removed it, unless that pass fails, in which case
//     the eraser retries it.
//
// The redaction records (x r, x l) of pruned events stay: they are the
// tombstones, and sinks list them (Redactions).

// dropEventRedactionKeys deletes, in wb, the blob references of e (a
// pruned event of origin, as read from its segment) and adds the blobs it
// referenced to blobs, unless it was redacted: a redacted event references
// nothing (its references went with the redaction, and an erased copy's
// CIDs are blanked).
func (s *Store) dropEventRedactionKeys(wb *badger.WriteBatch, e *event.Event, origin string, blobs map[string]cid.Cid) error {
	d := crdt.Dot{Origin: origin, Seq: e.Seq}
	if e.Redaction != nil || s.red.get(d) != nil {
		return nil
	}
	for _, c := range distinctBlobs(e.Blobs) {
		blobs[c.KeyString()] = c
		if err := wb.Delete(blobRefKey(c, d)); err != nil {
			return err
		}
	}
	return nil
}

// erasePruned runs an erasure pass after a Prune (see above). A failure is
// logged; the eraser goroutine retries it.
func (s *Store) erasePruned() {
	if s.red.n.Load() == 0 {
		return
	}
	if err := s.eraseQueued(); err != nil {
		s.log.Error("erasing redacted payloads after a prune failed; retried by the eraser", "err", err)
		s.wakeEraser()
	}
}
