package store

import (
	"context"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// exportTo copies a snapshot of src for a joiner keeping events at or after
// cutoff into dst: the events through Apply, the rest through Install.
func exportTo(t *testing.T, src, dst *Store, cutoff int64) *SnapshotHeader {
	t.Helper()
	var hdr *SnapshotHeader
	var pending []*event.Event
	err := src.ExportSnapshot(cutoff, 64<<10, func(h *SnapshotHeader) error {
		hdr = h
		return nil
	}, func(events []*event.Event, seal *event.Seal) error {
		pending = append(pending, events...)
		if seal == nil {
			return nil
		}
		_, err := dst.Apply(context.Background(), pending, []event.Seal{*seal})
		pending = nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) > 0 {
		t.Fatal("the export ended inside an unsealed run")
	}
	if err := dst.Install(context.Background(), hdr); err != nil {
		t.Fatal(err)
	}
	return hdr
}

func TestSnapshotJoinKeepsOnlyTheWindow(t *testing.T) {
	ka, kb, kc := newKey(t, 50), newKey(t, 51), newKey(t, 52)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	fill(t, a, 10, 50, 10_000) // a's events: TS 10,000 .. 10,499
	fill(t, b, 4, 25, 20_000)  // b's: TS 20,000 .. 20,099
	bev := allEvents(t, b, kb.origin)
	for i := 0; i < 100; i += 25 { // with a seal per batch
		seal, _ := b.NextSeal(kb.origin, uint64(i+25))
		if _, err := a.Apply(context.Background(), bev[i:i+25], []event.Seal{seal}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := a.Prune(context.Background(), map[string]uint64{kb.origin: 50}); err != nil || res.Floors[kb.origin] != 50 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	want := stateOf(t, a)

	cfgC := testConfig(t.TempDir(), kc)
	c := openStore(t, cfgC)
	// Keep events from TS 10,320 on: a's floor is the last seal below, 300;
	// b's events are all recent, but a pruned b up to 50.
	hdr := exportTo(t, a, c, 10_320)
	if len(hdr.Floors) != 2 || c.Floor(ka.origin) != 300 || c.Floor(kb.origin) != 50 {
		t.Fatalf("floors %v", c.Floors())
	}
	want.mustEqual(t, stateOf(t, c), "joiner")
	if got := allEvents(t, c, ka.origin); len(got) != 200 || got[0].Seq != 301 {
		t.Fatalf("joiner holds %d of a's events", len(got))
	}
	if got := allEvents(t, c, kb.origin); len(got) != 50 || got[0].Seq != 51 {
		t.Fatalf("joiner holds %d of b's events", len(got))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openStore(t, cfgC)
	defer c.Close()
	want.mustEqual(t, stateOf(t, c), "joiner after restart")
	if acks := ingest(t, c, inputs(1, "x")); acks[0].Seq != 1 {
		t.Fatalf("joiner's own seq %d", acks[0].Seq)
	}
	// Events that come later are aggregated on top of the snapshot's.
	more := allEvents(t, a, ka.origin)
	ingest(t, a, inputs(5, "bulk"))
	fresh := allEvents(t, a, ka.origin)[len(more):]
	seal, _ := a.Seal(ka.origin)
	if _, err := c.Apply(context.Background(), fresh, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	rowsA, _ := a.Aggregates("bulk", crdt.Day, -1<<62, 1<<62)
	rowsC, _ := c.Aggregates("bulk", crdt.Day, -1<<62, 1<<62)
	if len(rowsA) != len(rowsC) || !rowsA[0].Agg.Equal(rowsC[0].Agg) {
		t.Fatal("aggregates diverge after the join")
	}
}

func TestSnapshotJoinOfAWipedDeviceContinuesItsLog(t *testing.T) {
	ka, kb := newKey(t, 53), newKey(t, 54)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	old := openStore(t, testConfig(t.TempDir(), kb))
	fill(t, old, 3, 10, 1_000)
	ev := allEvents(t, old, kb.origin)
	seal, _ := old.Seal(kb.origin)
	old.Close()
	if _, err := a.Apply(context.Background(), ev, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	// b was wiped but kept its key; a keeps all of b's past, which is old.
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	exportTo(t, a, b, 5_000)
	if b.Floor(kb.origin) != 30 {
		t.Fatalf("floor %d", b.Floor(kb.origin))
	}
	acks := ingest(t, b, inputs(2, "x"))
	if acks[0].Seq != 31 {
		t.Fatalf("next own seq %d, want 31", acks[0].Seq)
	}
	got := allEvents(t, b, kb.origin)
	s, _ := b.Seal(kb.origin)
	if _, err := event.VerifyRange(ev[29].Hash(), got, &s); err != nil {
		t.Fatalf("own chain broken after the join: %v", err)
	}
}

func TestInstallRefusesAStoreWithOtherEvents(t *testing.T) {
	ka, kb := newKey(t, 55), newKey(t, 56)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	ingest(t, a, inputs(10, "x"))
	ingest(t, b, inputs(1, "y")) // b has an event a's snapshot lacks
	h, err := a.snapshotState()
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, b)
	if err := b.Install(context.Background(), h); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("install over foreign events: %v", err)
	}
	before.mustEqual(t, stateOf(t, b), "after a refused install")
	if joining(t, b) {
		t.Fatal("a refused install left the join marker")
	}
	bad := &SnapshotHeader{Context: h.Context, Floors: []event.Seal{{Origin: ka.origin, Seq: 11}}}
	if err := b.Install(context.Background(), bad); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("a floor beyond the context: %v", err)
	}
}

func joining(t *testing.T, s *Store) bool {
	t.Helper()
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyJoining)
		return err
	})
	return err == nil
}

func TestInterruptedJoinIsDiscardedOnOpen(t *testing.T) {
	ka := newKey(t, 57)
	cfg := testConfig(t.TempDir(), ka)
	s := openStore(t, cfg)
	ingest(t, s, inputs(10, "x"))
	// A crash between the join's marker and its end.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyJoining, nil) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, cfg)
	defer s.Close()
	if sum := s.Summary(); sum.Events != 0 || joining(t, s) {
		t.Fatalf("after an interrupted join: %d events", sum.Events)
	}
	if acks := ingest(t, s, inputs(1, "x")); acks[0].Seq != 1 {
		t.Fatalf("seq %d", acks[0].Seq)
	}
}
