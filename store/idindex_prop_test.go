package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// idModel is the event_id index's model: every held event.
type idModel struct{ events []*event.Event }

// byID is the event GetByID must return: of those with id, the smallest
// dot.
func (m idModel) byID(id uuid.UUID) (crdt.Dot, bool) {
	var best crdt.Dot
	found := false
	for _, e := range m.events {
		d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
		if e.ID == id && (!found || cmp.Or(cmp.Compare(d.Origin, best.Origin), cmp.Compare(d.Seq, best.Seq)) < 0) {
			best, found = d, true
		}
	}
	return best, found
}

// latest is latestID's answer: the greatest id with HLC at most upTo.
func (m idModel) latest(upTo event.HLC) (uuid.UUID, bool) {
	var best uuid.UUID
	found := false
	for _, e := range m.events {
		if event.HLCOf(e.ID).Compare(upTo) <= 0 && (!found || bytes.Compare(e.ID[:], best[:]) > 0) {
			best, found = e.ID, true
		}
	}
	return best, found
}

func (m idModel) positions() ([]TimePos, map[TimePos]string) {
	var all []TimePos
	types := map[TimePos]string{}
	for _, e := range m.events {
		all = append(all, PosOf(e))
		types[PosOf(e)] = e.Type
	}
	slices.SortFunc(all, TimePos.Compare)
	return all, types
}

// drawIDRuns draws sealed runs of a few origins whose ids crowd into a few
// milliseconds (shared by origins, not monotonic per origin), some of them
// copied from another origin's event.
func drawIDRuns(t *rapid.T, keys []testKey, t0 int64) []sealedRun {
	var runs []sealedRun
	var ids []uuid.UUID
	next := make([]uint64, len(keys))
	heads := make([]event.Hash, len(keys))
	for range rapid.IntRange(1, 12).Draw(t, "runs") {
		o := rapid.IntRange(0, len(keys)-1).Draw(t, "origin")
		k := keys[o]
		var r sealedRun
		for range rapid.IntRange(1, 6).Draw(t, "events") {
			var id uuid.UUID
			if len(ids) > 0 && rapid.IntRange(0, 9).Draw(t, "copy") == 0 {
				id = ids[rapid.IntRange(0, len(ids)-1).Draw(t, "copied")]
			} else {
				ms := t0 + rapid.Int64Range(0, 3).Draw(t, "ms")
				id = event.NewID(ms, uint16(rapid.IntRange(0, 5).Draw(t, "counter")), [8]byte{byte(rapid.IntRange(0, 255).Draw(t, "rand"))})
			}
			ids = append(ids, id)
			next[o]++
			e := &event.Event{ID: id, Device: k.origin, Seq: next[o], TS: t0, Schema: 1,
				Type:    rapid.SampledFrom([]string{"a", "b"}).Draw(t, "type"),
				Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, len(ids))), Prev: heads[o]}
			heads[o] = e.Hash()
			r.events = append(r.events, e)
		}
		seal, err := event.NewSeal(k.key, k.origin, next[o], heads[o])
		if err != nil {
			t.Fatal(err)
		}
		r.seal = seal
		runs = append(runs, r)
	}
	return runs
}

// checkIDIndex checks GetByID, the time-ordered view and latestID of s
// against the model m, over the ids and times of the drawn events.
func checkIDIndex(t *rapid.T, s *Store, m idModel, all []*event.Event, t0 int64) {
	for _, e := range all {
		want, ok := m.byID(e.ID)
		got, err := s.GetByID(e.ID)
		switch {
		case !ok && !errors.Is(err, ErrNotFound):
			t.Fatalf("GetByID(%s) = %v, %v; want not found", e.ID, got, err)
		case ok && (err != nil || got.Device != want.Origin || got.Seq != want.Seq):
			t.Fatalf("GetByID(%s) = %v, %v; want %v", e.ID, got, err, want)
		}
	}
	pos, types := m.positions()
	q := TimeQuery{Since: event.HLC{MS: t0 - 1}, Limit: len(pos) + 1}
	if got := timeView(t, s, q); !slices.Equal(got, pos) {
		t.Fatalf("time view\n%v\nwant\n%v", got, pos)
	}
	q = TimeQuery{
		Since: event.HLC{MS: t0 + rapid.Int64Range(0, 3).Draw(t, "since"), Counter: uint16(rapid.IntRange(0, 5).Draw(t, "sinceCounter"))},
		Limit: rapid.IntRange(1, len(pos)+1).Draw(t, "limit"),
		Type:  rapid.SampledFrom([]string{"", "a"}).Draw(t, "qtype"),
	}
	if len(pos) > 0 && rapid.Bool().Draw(t, "cursor") {
		q.After = &pos[rapid.IntRange(0, len(pos)-1).Draw(t, "after")]
	}
	if got, want := timeView(t, s, q), expectedView(pos, types, q); !slices.Equal(got, want) {
		t.Fatalf("time view %+v\n%v\nwant\n%v", q, got, want)
	}
	for ms := t0 - 1; ms <= t0+4; ms++ {
		for _, c := range []uint16{0, 2, event.MaxHLCCounter} {
			upTo := event.HLC{MS: ms, Counter: c}
			want, wok := m.latest(upTo)
			got, gok, err := s.latestID(upTo)
			if err != nil || gok != wok || got != want {
				t.Fatalf("latestID(%v) = %s %v %v, want %s %v", upTo, got, gok, err, want, wok)
			}
		}
	}
}

// TestIDIndexMatchesModel applies random runs of a few origins, whose ids
// share milliseconds and are sometimes copied across origins, to a
// replica in random batches (with badger transactions split after a few
// hundred bytes), then prunes each origin to a random seal, and checks
// GetByID, the time-ordered view and latestID against the model after
// each step and after a restart.
func TestIDIndexMatchesModel(t *testing.T) {
	defer func(l int) { txnSoftLimit = l }(txnSoftLimit)
	outer, cases := t, 0
	rapid.Check(t, func(t *rapid.T) {
		cases++
		txnSoftLimit = rapid.SampledFrom([]int{1 << 20, 600, 2000}).Draw(t, "txnSoftLimit")
		t0 := int64(1_700_000_000_000) + int64(cases)*24*3600*1000
		keys := make([]testKey, rapid.IntRange(1, 3).Draw(t, "origins"))
		for i := range keys {
			keys[i] = newKey(outer, uint64(5000+cases*4+i))
		}
		runs := drawIDRuns(t, keys, t0)
		cfg := testConfig(outer.TempDir(), newKey(outer, 4999))
		s := openStore(outer, cfg)
		defer func() { s.Close() }()
		applyShuffled(t, s, runs, "apply")
		var all []*event.Event
		for _, r := range runs {
			all = append(all, r.events...)
		}
		m := idModel{events: all}
		checkIDIndex(t, s, m, all, t0)
		// Prune each origin below one of its seals.
		below := map[string]uint64{}
		for _, r := range runs {
			if rapid.IntRange(0, 2).Draw(t, "prune") == 0 {
				below[r.seal.Origin] = max(below[r.seal.Origin], r.seal.Seq)
			}
		}
		if _, err := s.Prune(context.Background(), below); err != nil {
			t.Fatal(err)
		}
		m.events = slices.DeleteFunc(slices.Clone(all), func(e *event.Event) bool { return e.Seq <= s.Floor(e.Device) })
		checkIDIndex(t, s, m, all, t0)
		checkNoPrunedEntries(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openStore(outer, cfg)
		checkIDIndex(t, s, m, all, t0)
	})
}

// checkNoPrunedEntries checks that no event_id bucket keeps an entry at
// or below its origin's floor once Prune returned.
func checkNoPrunedEntries(t *rapid.T, s *Store) {
	for _, b := range idBuckets(t, s) {
		for _, e := range b.entries {
			if e.seq <= s.Floor(b.origin) {
				t.Fatalf("bucket %+v keeps pruned entry %d", b.head, e.seq)
			}
		}
	}
}

// rawBucket is one decoded event_id bucket.
type rawBucket struct {
	head    idBucketHead
	origin  string
	entries []idEntry
}

func idBuckets(t interface{ Fatal(...any) }, s *Store) []rawBucket {
	var out []rawBucket
	s.waitIndexed()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixID}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			head, origin, ents, err := s.bucketItem(it.Item(), nil)
			if err != nil {
				return err
			}
			out = append(out, rawBucket{head, origin, ents})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
