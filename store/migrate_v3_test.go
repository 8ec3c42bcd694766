package store

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/event"
)

// idAnswers are what the event_id index answers for the fixture's events.
type idAnswers struct {
	byID   map[uuid.UUID]event.JSON
	view   []TimePos
	latest map[event.HLC]uuid.UUID
}

// readIDAnswers asks s GetByID of every event it holds, the whole
// time-ordered view, and latestID at every event's HLC and just before.
func readIDAnswers(t *testing.T, s *Store) idAnswers {
	t.Helper()
	var events []*event.Event
	if err := s.Scan(Query{}, func(e *event.Event) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	a := idAnswers{byID: map[uuid.UUID]event.JSON{}, latest: map[event.HLC]uuid.UUID{}}
	for _, e := range events {
		got, err := s.GetByID(e.ID)
		if err != nil {
			t.Fatal(err)
		}
		a.byID[e.ID] = got.ToJSON()
		h := event.HLCOf(e.ID)
		for _, upTo := range []event.HLC{h, {MS: h.MS - 1, Counter: event.MaxHLCCounter}} {
			id, _, err := s.latestID(upTo) // uuid.Nil if none
			if err != nil {
				t.Fatalf("latestID(%v): %v", upTo, err)
			}
			a.latest[upTo] = id
		}
	}
	err := s.ScanTime(TimeQuery{Limit: len(events) + 1}, func([]TimePos) error { return nil }, func(e *event.Event) error {
		a.view = append(a.view, PosOf(e))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.view) != len(events) {
		t.Fatalf("time view lists %d events of %d", len(a.view), len(events))
	}
	return a
}

var fresh struct {
	once sync.Once
	a    idAnswers
}

// freshAnswers builds a new store from the migrated fixture's events and
// seals (Apply) and reads its answers, once per test binary.
func freshAnswers(t *testing.T, migrated *Store) idAnswers {
	fresh.once.Do(func() {
		s := openStore(t, testConfig(t.TempDir(), newKey(t, 43)))
		defer s.Close()
		for _, origin := range migrated.Context().Origins() {
			var events []*event.Event
			if err := migrated.Scan(Query{Device: origin}, func(e *event.Event) error { events = append(events, e); return nil }); err != nil {
				t.Fatal(err)
			}
			var seals []event.Seal
			for seq := uint64(1); ; {
				seal, err := migrated.NextSeal(origin, seq)
				if err != nil {
					break
				}
				seals, seq = append(seals, seal), seal.Seq+1
			}
			if _, err := s.Apply(context.Background(), events, seals); err != nil {
				t.Fatal(err)
			}
		}
		fresh.a = readIDAnswers(t, s)
	})
	return fresh.a
}

// checkMigratedIDs checks that the migrated fixture's event_id index
// answers GetByID, the time-ordered view and latestID as a store built
// afresh from its events does, and that no format 2 key is left.
func checkMigratedIDs(t *testing.T, s *Store) {
	t.Helper()
	got, want := readIDAnswers(t, s), freshAnswers(t, s)
	if len(got.byID) != 462 || len(got.byID) != len(want.byID) {
		t.Fatalf("%d ids after migration, fresh store %d", len(got.byID), len(want.byID))
	}
	for id, e := range want.byID {
		if g := got.byID[id]; g.DeviceID != e.DeviceID || g.Seq != e.Seq {
			t.Fatalf("GetByID(%s): %s/%d, fresh store %s/%d", id, g.DeviceID, g.Seq, e.DeviceID, e.Seq)
		}
	}
	if !slices.Equal(got.view, want.view) {
		t.Fatalf("time view after migration\n%v\nfresh store\n%v", got.view, want.view)
	}
	for h, id := range want.latest {
		if got.latest[h] != id {
			t.Fatalf("latestID(%v): %s, fresh store %s", h, got.latest[h], id)
		}
	}
	for _, b := range idBuckets(t, s) {
		if len(b.entries) == 0 {
			t.Fatalf("empty bucket %+v", b.head)
		}
	}
	if n := countKeys(t, s, func(k []byte) bool { return k[0] == prefixID && len(k) == legacyIDKeyLen }); n != 0 {
		t.Fatalf("%d format 2 event_id keys left", n)
	}
}

func countKeys(t *testing.T, s *Store, match func([]byte) bool) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if match(it.Item().Key()) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
