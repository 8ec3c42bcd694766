package store

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// craftRun builds origin k's first event with the given id, sealed.
func craftRun(t *testing.T, k testKey, id [16]byte) sealedRun {
	t.Helper()
	e := &event.Event{ID: id, Device: k.origin, Seq: 1, TS: 1, Type: "t", Schema: 1, Payload: json.RawMessage(`{}`)}
	seal, err := event.NewSeal(k.key, k.origin, 1, e.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return sealedRun{events: []*event.Event{e}, seal: seal}
}

// TestCopiedIDIndexedDeterministically gives two origins' events the same
// id and applies them to replicas in both orders, in one batch and in
// two: every replica holds both, GetByID names the same one (the smaller
// dot) on all of them, and the time-ordered view lists both, the same on
// all of them.
func TestCopiedIDIndexedDeterministically(t *testing.T) {
	ka, kb := newKey(t, 70), newKey(t, 71)
	id := event.NewID(1_700_000_000_000, 5, [8]byte{1, 2, 3})
	runs := []sealedRun{craftRun(t, ka, id), craftRun(t, kb, id)}
	want := crdt.Dot{Origin: min(ka.origin, kb.origin), Seq: 1}
	orders := [][]int{{0, 1}, {1, 0}}
	var views [][]TimePos
	for i, order := range orders {
		for _, together := range []bool{false, true} {
			s := openStore(t, testConfig(t.TempDir(), newKey(t, uint64(72+i))))
			var events []*event.Event
			var seals []event.Seal
			for _, j := range order {
				events, seals = append(events, runs[j].events...), append(seals, runs[j].seal)
				if !together {
					if _, err := s.Apply(context.Background(), events, seals); err != nil {
						t.Fatal(err)
					}
					events, seals = nil, nil
				}
			}
			if together {
				if _, err := s.Apply(context.Background(), events, seals); err != nil {
					t.Fatal(err)
				}
			}
			if s.Summary().Events != 2 {
				t.Fatalf("order %v: %d events held, want both", order, s.Summary().Events)
			}
			e, err := s.GetByID(id)
			if err != nil || e.Device != want.Origin {
				t.Fatalf("order %v together %v: GetByID names %v (%v), want %s", order, together, e, err, want.Origin)
			}
			var view []TimePos
			if err := s.ScanTime(TimeQuery{Limit: 10}, func([]TimePos) error { return nil }, func(e *event.Event) error {
				view = append(view, PosOf(e))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(view) != 2 {
				t.Fatalf("order %v together %v: view lists %v, want both events", order, together, view)
			}
			views = append(views, view)
			s.Close()
		}
	}
	for _, v := range views[1:] {
		if !slices.Equal(v, views[0]) {
			t.Fatalf("views differ: %v and %v", views[0], v)
		}
	}
}
