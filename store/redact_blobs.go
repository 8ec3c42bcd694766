package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Blob references. The store indexes which held whole events reference
// each blob (x b), so that when a redaction removes an event's last
// reference to a blob, the blob is queued for release (x g). The node owns
// the blob store: it deletes each queued blob that still has no reference
// (BlobsToRelease, BlobReferenced) and marks it released (ReleaseDone),
// after which BlobRedacted tells it not to fetch the blob from peers again
// while nothing references it.
//
// A data directory written before this index existed has no x i mark; the
// index is then rebuilt by BackfillBlobRefs (one scan of every event)
// before the first release.

// initBlobIndex marks the index complete for a store without events.
func (s *Store) initBlobIndex() error {
	if s.ctx.Len() > 0 {
		return nil
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyBlobsIndexed, []byte{}) })
}

func distinctBlobs(blobs []cid.Cid) []cid.Cid {
	if len(blobs) < 2 {
		return blobs
	}
	out := make([]cid.Cid, 0, len(blobs))
	seen := make(map[cid.Cid]bool, len(blobs))
	for _, c := range blobs {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (t *txnBatch) addBlobRefs(e *event.Event, d crdt.Dot) error {
	for _, c := range distinctBlobs(e.Blobs) {
		if err := t.set(blobRefKey(c, d), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// dropBlobRefs removes a redacted event's blob references and queues the
// blobs nothing references any more.
func (t *txnBatch) dropBlobRefs(e *event.Event, d crdt.Dot) error {
	for _, c := range distinctBlobs(e.Blobs) {
		if err := t.txn.Delete(blobRefKey(c, d)); err != nil {
			return fmt.Errorf("store: index: %w", err)
		}
		t.size += 64
		if blobReferenced(t.txn, c) {
			continue
		}
		if err := t.set(blobKey(xRelease, c), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

func blobReferenced(txn *badger.Txn, c cid.Cid) bool {
	p := blobRefPrefix(c)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
	defer it.Close()
	it.Seek(p)
	return it.Valid()
}

func hasKey(txn *badger.Txn, k []byte) (bool, error) {
	_, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// BlobReferenced reports whether a held whole event references blob c.
func (s *Store) BlobReferenced(c cid.Cid) bool {
	s.waitIndexed()
	ok := false
	_ = s.db.View(func(txn *badger.Txn) error { ok = blobReferenced(txn, c); return nil })
	return ok
}

// BlobRedacted reports whether blob c was released because a redaction
// removed its last reference, and nothing references it since: the node
// must not fetch it from peers.
func (s *Store) BlobRedacted(c cid.Cid) bool {
	s.waitIndexed()
	out := false
	_ = s.db.View(func(txn *badger.Txn) error {
		ok, err := hasKey(txn, blobKey(xReleased, c))
		out = err == nil && ok && !blobReferenced(txn, c)
		return nil
	})
	return out
}

// BlobsToRelease lists the blobs queued for release by redactions.
func (s *Store) BlobsToRelease() ([]cid.Cid, error) {
	s.waitIndexed()
	var out []cid.Cid
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xRelease}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			c, err := cid.Cast(it.Item().KeyCopy(nil)[2:])
			if err != nil {
				return fmt.Errorf("store: corrupt blob release key: %w", err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// ReleaseDone takes c off the release queue and remembers it was released
// because of a redaction (see BlobRedacted).
func (s *Store) ReleaseDone(c cid.Cid) error {
	return s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(blobKey(xRelease, c)); err != nil {
			return err
		}
		return txn.Set(blobKey(xReleased, c), []byte{})
	})
}

// BlobRefsComplete reports whether the blob reference index covers every
// held event; see BackfillBlobRefs.
func (s *Store) BlobRefsComplete() bool {
	ok := false
	_ = s.db.View(func(txn *badger.Txn) (err error) { ok, err = hasKey(txn, keyBlobsIndexed); return err })
	return ok
}

// BackfillBlobRefs indexes the blob references of every held whole event,
// for a data directory written before the index existed, then marks the
// index complete. Events indexed meanwhile index their own references; a
// redaction racing with the scan may leave a reference that is not real,
// which only keeps a blob longer.
func (s *Store) BackfillBlobRefs(ctx context.Context) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	err := s.Scan(Query{}, func(e *event.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Redaction != nil {
			return nil
		}
		d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
		for _, c := range distinctBlobs(e.Blobs) {
			if err := wb.Set(blobRefKey(c, d), []byte{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Set(keyBlobsIndexed, []byte{})
	}
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("store: backfill blob references: %w", err)
	}
	return nil
}
