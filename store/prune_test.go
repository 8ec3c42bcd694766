package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// padded returns n inputs of about size bytes each, with TS from ts0 on,
// one millisecond apart.
func padded(n, size int, ts0 int64) []event.Input {
	out := make([]event.Input, n)
	pad := strings.Repeat("p", size)
	for i := range out {
		out[i] = event.Input{Type: "bulk", Schema: 1, TS: ts0 + int64(i), HasTS: true,
			Payload: json.RawMessage(fmt.Sprintf(`{"value":%d,"pad":%q}`, i, pad))}
	}
	return out
}

// fill ingests batches × per events of about 1 KiB in requests of per
// events (one seal each), with event times 1 ms apart from ts0.
func fill(t testing.TB, s *Store, batches, per int, ts0 int64) {
	t.Helper()
	for b := 0; b < batches; b++ {
		ingest(t, s, padded(per, 1000, ts0+int64(b*per)))
	}
}

// logBytes is the size of the segment files.
func logBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	ents, err := os.ReadDir(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

type storeState struct {
	sum  Summary
	aggs []AggRow
}

func stateOf(t testing.TB, s *Store) storeState {
	t.Helper()
	var st storeState
	st.sum = s.Summary()
	for _, w := range crdt.Windows {
		rows, err := s.Aggregates("", w, -1<<62, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		st.aggs = append(st.aggs, rows...)
	}
	return st
}

func (a storeState) mustEqual(t testing.TB, b storeState, what string) {
	t.Helper()
	if a.sum.Digest != b.sum.Digest || a.sum.Events != b.sum.Events {
		t.Fatalf("%s: context changed: %d events, was %d", what, b.sum.Events, a.sum.Events)
	}
	if len(a.aggs) != len(b.aggs) {
		t.Fatalf("%s: %d aggregates, was %d", what, len(b.aggs), len(a.aggs))
	}
	for i := range a.aggs {
		if a.aggs[i].Key != b.aggs[i].Key || !a.aggs[i].Agg.Equal(b.aggs[i].Agg) {
			t.Fatalf("%s: aggregate %v changed", what, a.aggs[i].Key)
		}
	}
}

func TestPruneRemovesOnlyBelowTheFloor(t *testing.T) {
	k := newKey(t, 40)
	cfg := testConfig(t.TempDir(), k)
	cfg.SegmentBytes = 1 << 20
	s := openStore(t, cfg)
	fill(t, s, 50, 100, 1_000) // 5,000 events of ~1 KiB: about 5 segments
	before := allEvents(t, s, k.origin)
	state := stateOf(t, s)
	size := logBytes(t, cfg.Dir)

	// 2,550 is no seal: the floor stops at the seal below it, 2,500.
	res, err := s.Prune(context.Background(), map[string]uint64{k.origin: 2_550, "unknown": 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Floors[k.origin] != 2_500 || len(res.Floors) != 1 || res.Events != 2_500 {
		t.Fatalf("prune result %+v", res)
	}
	if res.Segments == 0 || logBytes(t, cfg.Dir) >= size-res.SegmentBytes+1 {
		t.Fatalf("no segment reclaimed: %+v, log %d bytes, was %d", res, logBytes(t, cfg.Dir), size)
	}
	checkPruned(t, s, k.origin, 2_500, before)
	state.mustEqual(t, stateOf(t, s), "after prune")

	// Again: nothing more goes; lower is a no-op.
	res, err = s.Prune(context.Background(), map[string]uint64{k.origin: 2_500})
	if err != nil || len(res.Floors) != 0 || res.Events != 0 {
		t.Fatalf("second prune: %+v %v", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	checkPruned(t, s, k.origin, 2_500, before)
	state.mustEqual(t, stateOf(t, s), "after restart")
	acks := ingest(t, s, inputs(1, "x"))
	if acks[0].Seq != 5_001 {
		t.Fatalf("next seq %d", acks[0].Seq)
	}
}

// checkPruned checks that s holds exactly origin's events above floor, as
// in all, and still knows every dot and the floor's hash.
func checkPruned(t *testing.T, s *Store, origin string, floor uint64, all []*event.Event) {
	t.Helper()
	got := allEvents(t, s, origin)
	if uint64(len(got)) != uint64(len(all))-floor || got[0].Seq != floor+1 {
		t.Fatalf("holds %d events from %d, want %d from %d", len(got), got[0].Seq, uint64(len(all))-floor, floor+1)
	}
	for i, e := range got {
		if e.Hash() != all[int(floor)+i].Hash() {
			t.Fatalf("event %d changed", e.Seq)
		}
	}
	if s.Floor(origin) != floor || s.Floors()[origin] != floor {
		t.Fatalf("floor %d, want %d", s.Floor(origin), floor)
	}
	for _, seq := range []uint64{1, floor / 2, floor} {
		d := crdt.Dot{Origin: origin, Seq: seq}
		if _, err := s.Get(d); !errors.Is(err, ErrNotFound) {
			t.Fatalf("pruned %v still readable: %v", d, err)
		}
		if _, err := s.GetByID(all[seq-1].ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("pruned %v still found by id: %v", d, err)
		}
		if !s.Holds(d) {
			t.Fatalf("pruned %v left the context", d)
		}
	}
	if h, ok := s.Hash(crdt.Dot{Origin: origin, Seq: floor}); !ok || h != all[floor-1].Hash() {
		t.Fatal("the floor's hash is lost")
	}
	if _, ok := s.Hash(crdt.Dot{Origin: origin, Seq: floor - 1}); ok {
		t.Fatal("a hash below the floor answered")
	}
	evs, seal, err := s.ReadRun(origin, floor+1, floor+1, 1<<20)
	if err != nil || len(evs) == 0 || seal == nil || evs[0].Prev != all[floor-1].Hash() {
		t.Fatalf("read run above the floor: %d events, seal %v, %v", len(evs), seal, err)
	}
}

func TestPruneEverythingThenContinueTheChain(t *testing.T) {
	k := newKey(t, 41)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(30, "x"))
	ingest(t, s, inputs(20, "x"))
	if _, err := s.Prune(context.Background(), map[string]uint64{k.origin: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if s.Floor(k.origin) != 50 || len(allEvents(t, s, k.origin)) != 0 {
		t.Fatalf("floor %d", s.Floor(k.origin))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg) // the local head comes from the floor
	defer s.Close()
	acks := ingest(t, s, inputs(3, "x"))
	if acks[0].Seq != 51 {
		t.Fatalf("next seq %d", acks[0].Seq)
	}
	events := allEvents(t, s, k.origin)
	seal, err := s.Seal(k.origin)
	if err != nil {
		t.Fatal(err)
	}
	floor, _ := s.Hash(crdt.Dot{Origin: k.origin, Seq: 50})
	if _, err := event.VerifyRange(floor, events, &seal); err != nil {
		t.Fatalf("the chain does not continue from the floor: %v", err)
	}
}

func TestPruneStopsAtTheContiguousPrefix(t *testing.T) {
	ka, kb := newKey(t, 42), newKey(t, 43)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	for i := 0; i < 4; i++ {
		ingest(t, a, inputs(10, "x"))
	}
	events := allEvents(t, a, ka.origin)
	s20, _ := a.NextSeal(ka.origin, 20)
	s40, _ := a.NextSeal(ka.origin, 40)
	// b holds 1..20 and 31..40: a gap.
	if _, err := b.Apply(context.Background(), events[:20], []event.Seal{s20}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(context.Background(), events[30:], []event.Seal{s40}); err != nil {
		t.Fatal(err)
	}
	res, err := b.Prune(context.Background(), map[string]uint64{ka.origin: 40})
	if err != nil || res.Floors[ka.origin] != 20 {
		t.Fatalf("prune across a gap: %+v %v", res, err)
	}
	if got := allEvents(t, b, ka.origin); len(got) != 10 || got[0].Seq != 31 {
		t.Fatalf("b holds %d events", len(got))
	}
}

func TestUnreferencedBlobs(t *testing.T) {
	k := newKey(t, 44)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	mk := func(i int) cid.Cid {
		h, _ := multihash.Sum([]byte{byte(i)}, multihash.SHA2_256, -1)
		return cid.NewCidV1(cid.Raw, h)
	}
	shared, old, young := mk(1), mk(2), mk(3)
	ingest(t, s, []event.Input{{Type: "x", Payload: json.RawMessage(`{}`), Blobs: []cid.Cid{shared, old}}})
	ingest(t, s, []event.Input{{Type: "x", Payload: json.RawMessage(`{}`), Blobs: []cid.Cid{shared, young}}})
	res, err := s.Prune(context.Background(), map[string]uint64{k.origin: 1})
	if err != nil || len(res.Blobs) != 2 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	free, err := s.UnreferencedBlobs(res.Blobs)
	if err != nil || len(free) != 1 || !free[0].Equals(old) {
		t.Fatalf("unreferenced %v %v, want only %s", free, err, old)
	}
}

func TestAgedSeq(t *testing.T) {
	k := newKey(t, 45)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	ingest(t, s, padded(100, 10, 1_000)) // seq i has TS 999+i
	for _, tc := range []struct {
		cutoff int64
		lo, hi uint64
		want   uint64
	}{
		{0, 0, 100, 0},
		{1_000, 0, 100, 0},
		{1_001, 0, 100, 1},
		{1_050, 0, 100, 50},
		{5_000, 0, 100, 100},
		{1_050, 60, 100, 60}, // nothing above lo is old enough
		{1_050, 10, 30, 30},
		{1_050, 50, 50, 50},
	} {
		got, err := s.AgedSeq(k.origin, tc.cutoff, tc.lo, tc.hi)
		if err != nil || got != tc.want {
			t.Errorf("AgedSeq(%d, %d, %d) = %d, %v; want %d", tc.cutoff, tc.lo, tc.hi, got, err, tc.want)
		}
	}
}

func TestWatermarksPersist(t *testing.T) {
	k := newKey(t, 46)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	if err := s.SaveWatermarks("sink-a", map[string]uint64{"o1": 5, "o2": 9}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveWatermarks("sink-b", map[string]uint64{"o1": 7}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveWatermarks("sink-a", map[string]uint64{"o1": 6}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveWatermarks("", map[string]uint64{"o1": 6}); err == nil {
		t.Fatal("empty sink id accepted")
	}
	s.Close()
	s = openStore(t, cfg)
	defer s.Close()
	got, err := s.Watermarks()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["sink-a"]["o1"] != 6 || got["sink-a"]["o2"] != 9 || got["sink-b"]["o1"] != 7 {
		t.Fatalf("watermarks %v", got)
	}
}

// The time-ordered view shows only what is held, also when an interrupted
// prune left entries of pruned events behind.
func TestTimeOrderAfterPrune(t *testing.T) {
	k := newKey(t, 47)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	ingest(t, s, inputs(30, "x"))
	ingest(t, s, inputs(30, "y"))
	// A crash after the floor was written and before the index was
	// cleaned up: raise the floor only.
	seal, err := s.NextSeal(k.origin, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.writeFloors([]event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	s.setFloors([]event.Seal{seal})
	for _, typ := range []string{"", "x", "y"} {
		var got []uint64
		err := s.ScanTime(TimeQuery{Limit: 100, Type: typ}, func([]TimePos) error { return nil }, func(e *event.Event) error {
			got = append(got, e.Seq)
			return nil
		})
		if err != nil {
			t.Fatalf("type %q: %v", typ, err)
		}
		want := 30
		if typ == "x" {
			want = 0
		}
		if len(got) != want || (want > 0 && got[0] != 31) {
			t.Fatalf("type %q: time view holds %v", typ, got)
		}
	}
	if _, err := s.Prune(context.Background(), nil); err != nil { // finishes the interrupted one
		t.Fatal(err)
	}
	if n := len(allEvents(t, s, k.origin)); n != 30 {
		t.Fatalf("%d events after the cleanup", n)
	}
}
