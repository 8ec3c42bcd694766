package store

import (
	"context"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

func allEvents(t *testing.T, s *Store, origin string) []*event.Event {
	t.Helper()
	var out []*event.Event
	if err := s.Scan(Query{Device: origin}, func(e *event.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyRemoteEvents(t *testing.T) {
	ka, kb := newKey(t, 10), newKey(t, 11)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	ingest(t, a, inputs(20, "x"))
	ingest(t, b, inputs(5, "y"))
	events := allEvents(t, a, ka.origin)
	seal, err := a.Seal(ka.origin)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := b.Apply(context.Background(), events[:12], nil)
	if err != nil || len(applied) != 12 {
		t.Fatalf("first apply: %d applied, %v", len(applied), err)
	}
	// Overlapping and duplicated delivery: only the 8 new events count.
	dup := append(append([]*event.Event{}, events[5:]...), events[15:]...)
	applied, err = b.Apply(context.Background(), dup, []event.Seal{seal})
	if err != nil || len(applied) != 8 {
		t.Fatalf("second apply: %d applied, %v", len(applied), err)
	}
	if a.Summary().VersionVector[ka.origin] != b.Summary().VersionVector[ka.origin] {
		t.Fatal("b does not hold all of a's events")
	}
	got, err := b.NextSeal(ka.origin, 3)
	if err != nil || got.Seq != 20 {
		t.Fatalf("next seal: %+v %v", got, err)
	}
	h, ok := b.Hash(crdt.Dot{Origin: ka.origin, Seq: 20})
	if !ok || h != events[19].Hash() {
		t.Fatal("hash of applied event differs")
	}
	if acks := ingest(t, b, inputs(1, "y")); acks[0].Seq != 6 {
		t.Fatalf("b's own seq disturbed: %d", acks[0].Seq)
	}
}

func TestOwnPastFromPeerAdvancesSeq(t *testing.T) {
	k := newKey(t, 12)
	old := openStore(t, testConfig(t.TempDir(), k))
	ingest(t, old, inputs(10, "x"))
	events := allEvents(t, old, k.origin)
	seal, _ := old.Seal(k.origin)
	old.Close()
	// The device was wiped but kept its key; a peer hands its past back.
	fresh := openStore(t, testConfig(t.TempDir(), k))
	defer fresh.Close()
	if _, err := fresh.Apply(context.Background(), events, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	acks := ingest(t, fresh, inputs(1, "x"))
	if acks[0].Seq != 11 {
		t.Fatalf("seq after recovering own past = %d, want 11", acks[0].Seq)
	}
	checkLog(t, fresh, 11)
}
