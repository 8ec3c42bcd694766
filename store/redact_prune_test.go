package store

import (
	"context"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// A replica that pruned a redaction's target (its payload already gone)
// records the redaction and goes on: before, reading the target failed the
// store, and every restart replayed the same failure. The aggregates keep
// the pruned event's share (its value is gone with it); a target still
// held is redacted as usual.
func TestRedactionOfAPrunedTarget(t *testing.T) {
	ka, kb := newKey(t, 47), newKey(t, 48)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	in := secretInputs(t, 5)
	ingest(t, a, in[:3])
	ingest(t, a, in[3:])
	bcfg := testConfig(t.TempDir(), kb)
	b := openStore(t, bcfg)
	s3, _ := a.NextSeal(ka.origin, 3)
	s5, _ := a.Seal(ka.origin)
	if _, err := b.Apply(context.Background(), allEvents(t, a, ka.origin), []event.Seal{s3, s5}); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Prune(context.Background(), map[string]uint64{ka.origin: 3}); err != nil || res.Floors[ka.origin] != 3 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	before := dayAgg(t, b, "m").Clone()

	for _, seq := range []uint64{2, 4} { // pruned on b, and held
		e, err := a.Get(crdt.Dot{Origin: ka.origin, Seq: seq})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Redact(context.Background(), e.ID); err != nil {
			t.Fatal(err)
		}
	}
	seal, _ := a.Seal(ka.origin)
	if _, err := b.Apply(context.Background(), allEvents(t, a, ka.origin)[3:], []event.Seal{seal}); err != nil {
		t.Fatalf("applying redactions of a pruned and a held event: %v", err)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("the store failed: %v", err)
	}
	for _, seq := range []uint64{2, 4} {
		if r, ok := b.Redaction(crdt.Dot{Origin: ka.origin, Seq: seq}); !ok || r.Redactor != ka.origin {
			t.Fatalf("redaction of %d not recorded", seq)
		}
	}
	mustRedacted(t, b, crdt.Dot{Origin: ka.origin, Seq: 4}, ka.origin)
	// Event 4 is taken out of b's aggregates; event 2, pruned, cannot be.
	got, want := dayAgg(t, b, "m"), before.Clone()
	if !want.Remove(40, true) || !got.Equal(want) {
		t.Fatalf("b's aggregate %+v, want %+v", got.Summary(), want.Summary())
	}
	if a := dayAgg(t, a, "m"); a.Count != got.Count-1 || a.Redacted != got.Redacted+1 {
		t.Fatalf("a's aggregate %+v against b's %+v: event 2's share should differ", a.Summary(), got.Summary())
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openStore(t, bcfg)
	defer b.Close()
	if err := b.Err(); err != nil || b.Summary().Digest != a.Summary().Digest {
		t.Fatalf("after a restart: %v", err)
	}
}

// Pruning an event drops its blob references: a blob only pruned events
// referenced is not "referenced" any more (BlobReferenced), so a
// redaction of another event referencing it releases it.
func TestPruneDropsBlobReferences(t *testing.T) {
	k := newKey(t, 49)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	in := secretInputs(t, 5)
	ingest(t, s, in[:3]) // event 3 references only-3
	ingest(t, s, in[3:]) // 4 and 5 share shared
	only3, shared := blobCID(t, "only-3"), blobCID(t, "shared")
	if !s.BlobReferenced(only3) || !s.BlobReferenced(shared) {
		t.Fatal("blob references not indexed")
	}
	if _, err := s.Prune(context.Background(), map[string]uint64{k.origin: 3}); err != nil {
		t.Fatal(err)
	}
	if s.BlobReferenced(only3) || !s.BlobReferenced(shared) {
		t.Fatalf("after pruning 1-3: only-3 referenced %v, shared %v", s.BlobReferenced(only3), s.BlobReferenced(shared))
	}
}
