package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// TestPruneCutsStraddlingBucket prunes an origin whose events of one
// millisecond share one event_id bucket across the floor: the bucket is
// replaced by one holding the events above the floor, keyed by the first
// of them.
func TestPruneCutsStraddlingBucket(t *testing.T) {
	k := newKey(t, 80)
	s := openStore(t, testConfig(t.TempDir(), newKey(t, 81)))
	defer s.Close()
	const ms = 1_700_000_000_000
	var events []*event.Event
	var seals []event.Seal
	var head event.Hash
	for seq := uint64(1); seq <= 6; seq++ {
		e := &event.Event{ID: event.NewID(ms, uint16(seq), [8]byte{byte(seq)}), Device: k.origin, Seq: seq, TS: ms,
			Type: "t", Schema: 1, Payload: json.RawMessage(`{}`), Prev: head}
		head = e.Hash()
		events = append(events, e)
		if seq%3 == 0 {
			seal, err := event.NewSeal(k.key, k.origin, seq, head)
			if err != nil {
				t.Fatal(err)
			}
			seals = append(seals, seal)
		}
	}
	if _, err := s.Apply(context.Background(), events, seals); err != nil {
		t.Fatal(err)
	}
	if b := idBuckets(t, s); len(b) != 1 || len(b[0].entries) != 6 || b[0].head.first != 1 {
		t.Fatalf("buckets before prune: %+v, want one of 6 events", b)
	}
	if res, err := s.Prune(context.Background(), map[string]uint64{k.origin: 3}); err != nil || res.Floors[k.origin] != 3 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	b := idBuckets(t, s)
	if len(b) != 1 || b[0].head.first != 4 || len(b[0].entries) != 3 || b[0].entries[0].id != events[3].ID {
		t.Fatalf("buckets after prune: %+v, want one of seqs 4-6", b)
	}
	for i, e := range events {
		got, err := s.GetByID(e.ID)
		if i < 3 && !errors.Is(err, ErrNotFound) || i >= 3 && (err != nil || got.Seq != e.Seq) {
			t.Fatalf("GetByID of seq %d: %v %v", e.Seq, got, err)
		}
	}
	var view []uint64
	if err := s.ScanTime(TimeQuery{Limit: 10}, func([]TimePos) error { return nil }, func(e *event.Event) error {
		view = append(view, e.Seq)
		return nil
	}); err != nil || len(view) != 3 || view[0] != 4 {
		t.Fatalf("time view after prune: %v %v", view, err)
	}
	// Pruning everything deletes the bucket.
	if _, err := s.Prune(context.Background(), map[string]uint64{k.origin: 6}); err != nil {
		t.Fatal(err)
	}
	if b := idBuckets(t, s); len(b) != 0 {
		t.Fatalf("buckets after pruning everything: %+v", b)
	}
}

// TestLocalIngestSharesBuckets checks that local events of one
// millisecond (a stopped clock) share buckets of at most bucketFill.
func TestLocalIngestSharesBuckets(t *testing.T) {
	cfg := testConfig(t.TempDir(), newKey(t, 82))
	cfg.Clock = clockAt(1_700_000_000_000)
	s := openStore(t, cfg)
	defer s.Close()
	ingest(t, s, inputs(5000, "x"))
	b := idBuckets(t, s)
	n := 0
	for _, x := range b {
		n += len(x.entries)
	}
	want := (5000 + bucketFill - 1) / bucketFill
	if n != 5000 || len(b) < want || len(b) > want+8 {
		t.Fatalf("%d buckets holding %d events, want about %d", len(b), n, want)
	}
	for _, x := range b {
		if len(x.entries) > bucketFill {
			t.Fatalf("a bucket of %d entries", len(x.entries))
		}
	}
}
