package gossip

import (
	"reflect"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

func evs(origin string, from, to uint64) []*event.Event {
	var out []*event.Event
	for s := from; s <= to; s++ {
		out = append(out, &event.Event{Device: origin, Seq: s})
	}
	return out
}

func TestTraceRingNewestFirstAndBounded(t *testing.T) {
	tr := newTraceRing(3)
	for _, id := range []string{"a", "b", "c", "d"} {
		tr.add(SessionRecord{ID: id})
	}
	var ids []string
	for _, r := range tr.list() {
		ids = append(ids, r.ID)
	}
	if !reflect.DeepEqual(ids, []string{"d", "c", "b"}) {
		t.Fatalf("list = %v", ids)
	}
}

func TestPushesMergePerPeerWithinAMinute(t *testing.T) {
	tr := newTraceRing(16)
	p, q := peer.ID("p"), peer.ID("q")
	t0 := time.Unix(1000, 0)
	id1 := tr.addPush(p, evs("o", 1, 3), 100, t0)
	idQ := tr.addPush(q, evs("o", 4, 4), 10, t0.Add(time.Second))
	id2 := tr.addPush(p, evs("o", 5, 6), 50, t0.Add(2*time.Second))
	id3 := tr.addPush(p, evs("x", 1, 1), 20, t0.Add(3*time.Second))
	if id1 != id2 || id2 != id3 || idQ == id1 {
		t.Fatalf("ids %s %s %s (q %s): p's pushes within a minute should share a record", id1, id2, id3, idQ)
	}
	recs := tr.list()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	got := recs[1]
	want := []crdt.Range{{Origin: "o", From: 1, To: 3}, {Origin: "o", From: 5, To: 6}, {Origin: "x", From: 1, To: 1}}
	if got.ID != id1 || got.Direction != "push" || got.EventsIn != 6 || got.BytesIn != 170 ||
		got.Duration != 3*time.Second || !reflect.DeepEqual(got.Ranges, want) {
		t.Fatalf("merged record %+v", got)
	}
	if late := tr.addPush(p, evs("o", 7, 7), 1, t0.Add(2*time.Minute)); late == id1 {
		t.Fatal("a push after a minute merged into the old record")
	}
}
