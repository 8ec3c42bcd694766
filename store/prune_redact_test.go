package store

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// redactKeys returns the dots of origin that have x e (erase) entries and
// the blob references (x b) per CID of origin's events.
func redactKeys(t *testing.T, s *Store, origin string) (map[uint64]bool, map[cid.Cid][]uint64) {
	t.Helper()
	s.waitIndexed()
	erase, refs := map[uint64]bool{}, map[cid.Cid][]uint64{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			switch k[1] {
			case xErase:
				d, err := decodeDot(k[2:])
				if err != nil {
					return err
				}
				if d.Origin == origin {
					erase[d.Seq] = true
				}
			case xBlobRef:
				n := int(k[2])
				c, err := cid.Cast(k[3 : 3+n])
				if err != nil {
					return err
				}
				d, err := decodeDot(k[3+n:])
				if err != nil {
					return err
				}
				if d.Origin == origin {
					refs[c] = append(refs[c], d.Seq)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return erase, refs
}

// TestPruneDropsRedactionEntries: when Prune removes events, their blob
// references (x b) go with them and their pending erasures (x e) are
// settled by the Prune: erased in a segment that stays, dropped with a
// segment that goes; the eraser never recreates a deleted segment.
func TestPruneDropsRedactionEntries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reclaim bool // pad the log so that the pruned events' segment is reclaimed
	}{{"segment kept", false}, {"segment reclaimed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(t, 44)
			cfg := testConfig(t.TempDir(), k)
			cfg.SegmentBytes = 1 << 20
			s := openStore(t, cfg)
			defer s.Close()
			// 1-5: #3 references only-3, #4 and #5 share a blob.
			acks := ingest(t, s, secretInputs(t, 5))
			floor := uint64(5)
			if tc.reclaim { // ~1.2 MiB more: the first segment fills and rotates
				fill(t, s, 12, 100, 1_000)
				floor += 1200
			}
			later := blobCID(t, "later")
			ingest(t, s, []event.Input{{Type: "m", Schema: 1, Payload: []byte(`{"value":1}`), Blobs: []cid.Cid{later}}})
			segs, err := s.segs.list()
			if err != nil {
				t.Fatal(err)
			}
			if tc.reclaim != (len(segs) > 1) {
				t.Fatalf("%d segments", len(segs))
			}

			// Redact #4 while the eraser is held, so that its erasure is
			// still queued when Prune runs.
			s.red.eraseMu.Lock()
			if _, _, err := s.Redact(context.Background(), acks[3].EventID); err != nil {
				s.red.eraseMu.Unlock()
				t.Fatal(err)
			}
			erase, refs := redactKeys(t, s, k.origin)
			if !erase[4] || len(refs[blobCID(t, "shared")]) != 1 || len(refs[blobCID(t, "only-3")]) != 1 {
				s.red.eraseMu.Unlock()
				t.Fatalf("before prune: erase %v refs %v", erase, refs)
			}
			type result struct {
				res PruneResult
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := s.Prune(context.Background(), map[string]uint64{k.origin: floor})
				done <- result{res, err}
			}()
			// Let the erasure run only once the index entries are gone (and
			// so the segments, which go before Prune's erasure pass).
			deadline := time.Now().Add(10 * time.Second)
			for s.BlobReferenced(blobCID(t, "shared")) {
				if time.Now().After(deadline) {
					s.red.eraseMu.Unlock()
					t.Fatal("prune did not drop the blob references")
				}
				time.Sleep(time.Millisecond)
			}
			s.red.eraseMu.Unlock()
			r := <-done
			if r.err != nil || r.res.Events != floor {
				t.Fatalf("prune: %+v %v", r.res, r.err)
			}
			if tc.reclaim != (r.res.Segments > 0) {
				t.Fatalf("prune reclaimed %d segments", r.res.Segments)
			}
			erase, refs = redactKeys(t, s, k.origin)
			if len(erase) != 0 {
				t.Fatalf("erasures still queued after prune: %v", erase)
			}
			if len(refs) != 1 || len(refs[later]) != 1 {
				t.Fatalf("blob references after prune: %v", refs)
			}
			for _, c := range []cid.Cid{blobCID(t, "shared"), blobCID(t, "only-3")} {
				if s.BlobReferenced(c) {
					t.Fatalf("pruned events still reference %s", c)
				}
			}
			if logContains(t, cfg.Dir, []byte("s3cr3t-004")) {
				t.Fatal("the pruned redacted payload is still in the log")
			}
			if !tc.reclaim && !logContains(t, cfg.Dir, []byte("s3cr3t-005")) {
				t.Fatal("the kept segment lost a payload it should keep (the test proves nothing)")
			}
			if tc.reclaim {
				if _, err := os.Stat(segmentPath(s.segs.dir, segs[0])); !os.IsNotExist(err) {
					t.Fatalf("segment %d: %v", segs[0], err)
				}
			}
			// The redaction itself stays listed, and a later erasure pass
			// finds nothing to do (and recreates no segment).
			if r, ok := s.Redaction(crdt.Dot{Origin: k.origin, Seq: 4}); !ok || r.Seq != 4 {
				t.Fatal("the redaction record went with the pruned event")
			}
			if err := s.eraseQueued(); err != nil {
				t.Fatal(err)
			}
			if tc.reclaim {
				if _, err := os.Stat(segmentPath(s.segs.dir, segs[0])); !os.IsNotExist(err) {
					t.Fatalf("segment %d after an erasure pass: %v", segs[0], err)
				}
			}
		})
	}
}
