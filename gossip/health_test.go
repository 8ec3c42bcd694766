package gossip

import (
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/internal/clock"
)

func TestHealthCompletenessAndLag(t *testing.T) {
	clk := clock.NewManual(time.Unix(1000, 0))
	tr := newTracker(clk)
	held := crdt.NewContext()
	held.AddRange(crdt.Range{Origin: "a", From: 1, To: 50})
	held.AddRange(crdt.Range{Origin: "b", From: 1, To: 10})
	held.Add(crdt.Dot{Origin: "b", Seq: 20})
	tr.learn("a", 100)
	h := tr.report(held, "self")
	clk.Advance(30 * time.Second)
	h = tr.report(held, "self")
	want := map[string]DeviceHealth{
		"a": {Events: 50, KnownMaxSeq: 100, Completeness: 0.5, LagSeconds: 30},
		"b": {Events: 11, KnownMaxSeq: 20, Completeness: 0.55, LagSeconds: 30},
	}
	for _, d := range h.Devices {
		w := want[d.DeviceID]
		if d.Events != w.Events || d.KnownMaxSeq != w.KnownMaxSeq || d.Completeness != w.Completeness || d.LagSeconds != w.LagSeconds {
			t.Errorf("%s: got %+v want %+v", d.DeviceID, d, w)
		}
	}
	if h.Completeness != 61.0/120.0 {
		t.Errorf("overall completeness %v", h.Completeness)
	}
	held.AddRange(crdt.Range{Origin: "a", From: 51, To: 100})
	for _, d := range tr.report(held, "self").Devices {
		if d.DeviceID == "a" && (d.Completeness != 1 || d.LagSeconds != 0) {
			t.Errorf("a after catching up: %+v", d)
		}
	}
}
