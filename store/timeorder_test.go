package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

// sealedRun is a contiguous piece of one origin's log and the seal over
// its last event: the unit a peer applies.
type sealedRun struct {
	events []*event.Event
	seal   event.Seal
}

// fleetOrigin is one origin of drawFleet: a device with its own clock.
type fleetOrigin struct {
	key  testKey
	skew int64 // ms its clock is off
	ids  event.IDGen
	next uint64
	head event.Hash
	runs []sealedRun
}

// drawFleet draws the logs of a few devices whose clocks are skewed (some
// by more than the default MaxClockSkew) and that now and then learn each
// other's events, stamped by the same HLC a store runs (event.IDGen with
// Observe on receipt). Skews come from a small set, so that different
// devices often stamp equal HLCs.
func drawFleet(t *rapid.T, keys []testKey, t0 int64) []*fleetOrigin {
	fleet := make([]*fleetOrigin, len(keys))
	for i, k := range keys {
		skew := rapid.SampledFrom([]int64{0, 0, 3, -40_000, 90_000}).Draw(t, fmt.Sprintf("skew%d", i))
		fleet[i] = &fleetOrigin{key: k, skew: skew, next: 1}
	}
	now := t0
	for op := range rapid.IntRange(1, 25).Draw(t, "ops") {
		now += rapid.Int64Range(0, 2).Draw(t, "tick")
		o := fleet[rapid.IntRange(0, len(fleet)-1).Draw(t, "origin")]
		local := now + o.skew
		if from := rapid.IntRange(-1, len(fleet)-1).Draw(t, "learnFrom"); from >= 0 {
			for _, r := range fleet[from].runs {
				for _, e := range r.events {
					o.ids.Observe(event.HLCOf(e.ID), local, time.Minute.Milliseconds())
				}
			}
			continue
		}
		var run sealedRun
		for i := range rapid.IntRange(1, 4).Draw(t, "events") {
			e := &event.Event{
				ID: o.ids.Next(local), Device: o.key.origin, Seq: o.next, TS: local, Schema: 1,
				Type:    rapid.SampledFrom([]string{"a", "b"}).Draw(t, "type"),
				Payload: json.RawMessage(fmt.Sprintf(`{"op":%d,"i":%d}`, op, i)), Prev: o.head,
			}
			o.next, o.head = o.next+1, e.Hash()
			run.events = append(run.events, e)
		}
		seal, err := event.NewSeal(o.key.key, o.key.origin, o.next-1, o.head)
		if err != nil {
			t.Fatal(err)
		}
		run.seal = seal
		o.runs = append(o.runs, run)
	}
	return fleet
}

// openReplica opens a store in a fresh directory of tb's with a manual
// clock.
func openReplica(tb testing.TB, k testKey) (*Store, *clock.Manual) {
	cfg := testConfig(tb.TempDir(), k)
	c := clock.NewManual(time.UnixMilli(0))
	cfg.Clock = c
	s, err := Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, c
}

// applyShuffled applies every run of the fleet to s in an order drawn by
// t, a few runs per Apply call.
func applyShuffled(t *rapid.T, s *Store, runs []sealedRun, label string) {
	order := rapid.Permutation(runs).Draw(t, label+".order")
	for len(order) > 0 {
		n := rapid.IntRange(1, len(order)).Draw(t, label+".batch")
		var events []*event.Event
		var seals []event.Seal
		for _, r := range order[:n] {
			events = append(events, r.events...)
			seals = append(seals, r.seal)
		}
		if _, err := s.Apply(context.Background(), events, seals); err != nil {
			t.Fatal(err)
		}
		order = order[n:]
	}
}

// timeView reads the whole page q selects, checking that the positions
// page is given match the events fn is given.
func timeView(t *rapid.T, s *Store, q TimeQuery) []TimePos {
	var page, got []TimePos
	err := s.ScanTime(q, func(p []TimePos) error { page = p; return nil }, func(e *event.Event) error {
		got = append(got, PosOf(e))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page, got) {
		t.Fatalf("page positions %v, events read %v", page, got)
	}
	return got
}

// expectedView is the model: all positions sorted, those at or after since,
// after after, of the device and type asked for, the first limit.
func expectedView(all []TimePos, types map[TimePos]string, q TimeQuery) []TimePos {
	var out []TimePos
	for _, p := range all {
		switch {
		case p.HLC.Compare(q.Since) < 0, q.After != nil && p.Compare(*q.After) <= 0,
			q.Device != "" && p.Device != q.Device, q.Type != "" && types[p] != q.Type, len(out) >= q.Limit:
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestTimeOrderConverges feeds two replicas, whose clocks are skewed too,
// the same events of a skewed fleet in different random orders and batch
// splits, and checks that both return exactly the model's sequence (all
// events sorted by HLC, device, seq) for the whole view, for any since and
// cursor, and page by page with random page sizes.
//
// Opening stores dominates the cost, so the two replicas live across
// cases: each case has origins of its own, a day after the last case's,
// and reads the view from its own start.
func TestTimeOrderConverges(t *testing.T) {
	var replicas [2]*Store
	var clocks [2]*clock.Manual
	for i := range replicas {
		replicas[i], clocks[i] = openReplica(t, newKey(t, uint64(100+i)))
	}
	cases, outer, equalHLC := 0, t, 0
	defer func() { t.Logf("%d pairs of events with equal HLCs", equalHLC) }()
	rapid.Check(t, func(t *rapid.T) {
		cases++
		t0 := int64(1_700_000_000_000) + int64(cases)*24*3600*1000
		floor := event.HLC{MS: t0 - time.Hour.Milliseconds()}
		keys := make([]testKey, rapid.IntRange(1, 3).Draw(t, "origins"))
		for i := range keys {
			keys[i] = newKey(outer, uint64(1000+cases*4+i))
		}
		fleet := drawFleet(t, keys, t0)
		var runs []sealedRun
		var all []TimePos
		types := map[TimePos]string{}
		for _, o := range fleet {
			runs = append(runs, o.runs...)
			for _, r := range o.runs {
				for _, e := range r.events {
					all = append(all, PosOf(e))
					types[PosOf(e)] = e.Type
				}
			}
		}
		slices.SortFunc(all, TimePos.Compare)
		for i := 1; i < len(all); i++ {
			if all[i-1].HLC == all[i].HLC {
				equalHLC++
			}
			if all[i-1].Compare(all[i]) == 0 {
				t.Fatalf("two events at one position %v", all[i])
			}
		}
		for i, s := range replicas {
			clocks[i].Set(time.UnixMilli(t0 + rapid.SampledFrom([]int64{0, -120_000, 120_000}).Draw(t, "replicaSkew")))
			applyShuffled(t, s, runs, fmt.Sprintf("replica%d", i))
		}
		whole := TimeQuery{Since: floor, Limit: len(all) + 1}
		for _, s := range replicas {
			if got := timeView(t, s, whole); !slices.Equal(got, all) {
				t.Fatalf("replica view\n%v\nwant\n%v", got, all)
			}
		}
		// Any since and cursor, any limit: the model's slice.
		q := TimeQuery{Since: floor, Limit: rapid.IntRange(1, len(all)+1).Draw(t, "limit")}
		if len(all) > 0 && rapid.Bool().Draw(t, "hasSince") {
			q.Since = all[rapid.IntRange(0, len(all)-1).Draw(t, "since")].HLC
		}
		if len(all) > 0 && rapid.Bool().Draw(t, "hasAfter") {
			p := all[rapid.IntRange(0, len(all)-1).Draw(t, "after")]
			switch rapid.IntRange(0, 2).Draw(t, "afterShape") {
			case 1: // a position between events: same HLC, a device id no one has
				p.Device += "~"
			case 2:
				p.Seq++
			}
			q.After = &p
		}
		if rapid.Bool().Draw(t, "hasDevice") {
			q.Device = keys[rapid.IntRange(0, len(keys)-1).Draw(t, "device")].origin
		}
		q.Type = rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "type")
		want := expectedView(all, types, q)
		for _, s := range replicas {
			if got := timeView(t, s, q); !slices.Equal(got, want) {
				t.Fatalf("query %+v:\n%v\nwant\n%v", q, got, want)
			}
		}
		// Paging from the start with random page sizes on one replica and
		// fixed ones on the other returns the whole view, and the pages
		// of both end at the same positions when their sizes agree.
		for i, s := range replicas {
			var paged []TimePos
			var after *TimePos
			for pages := 0; ; pages++ {
				if pages > len(all)+1 {
					t.Fatalf("paging does not end: %d pages", pages)
				}
				limit := 2
				if i == 0 {
					limit = rapid.IntRange(1, 4).Draw(t, "pageLimit")
				}
				page := timeView(t, s, TimeQuery{Since: floor, After: after, Limit: limit})
				paged = append(paged, page...)
				if len(page) < limit {
					break
				}
				after = &page[len(page)-1]
			}
			if !slices.Equal(paged, all) {
				t.Fatalf("replica %d paged\n%v\nwant\n%v", i, paged, all)
			}
		}
	})
}
