package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// TestAggFoldProp: however events are grouped into commits and runs of a
// type and window, the stored aggregates equal observing every event in
// every window one at a time (the model), including events from other
// devices applied in between.
func TestAggFoldProp(t *testing.T) {
	if len(crdt.Windows) > maxWindows {
		t.Fatalf("%d windows, the fold keeps %d", len(crdt.Windows), maxWindows)
	}
	rapid.Check(t, func(rt *rapid.T) {
		k := newKey(t, 90)
		s := openStore(t, testConfig(t.TempDir(), k))
		defer s.Close()
		model := map[crdt.AggKey]*crdt.Agg{}
		types := []string{"a", "b"}
		commits := rapid.IntRange(1, 6).Draw(rt, "commits")
		for c := 0; c < commits; c++ {
			n := rapid.IntRange(1, 40).Draw(rt, "events")
			in := make([]event.Input, n)
			ts := rapid.Int64Range(0, 3*3_600_000).Draw(rt, "ts")
			for i := range in {
				ts += rapid.SampledFrom([]int64{0, 1, 30_000, 61_000, 3_600_000}).Draw(rt, "step")
				typ := types[rapid.IntRange(0, 1).Draw(rt, "type")]
				payload := `{"other":1}`
				if rapid.Bool().Draw(rt, "has") {
					payload = fmt.Sprintf(`{"value":%d}`, rapid.IntRange(-5, 1000).Draw(rt, "value"))
				}
				in[i] = event.Input{Type: typ, Schema: 1, TS: ts, HasTS: true, Payload: json.RawMessage(payload)}
				v, has := payloadValue(in[i].Payload)
				for _, w := range crdt.Windows {
					key := crdt.AggKey{Type: typ, Window: w, Start: w.Start(ts)}
					if model[key] == nil {
						model[key] = crdt.NewAgg()
					}
					model[key].Observe(v, has, []byte(k.origin))
				}
			}
			ingest(t, s, in)
		}
		for _, w := range crdt.Windows {
			for _, typ := range types {
				rows, err := s.Aggregates(typ, w, -1<<62, 1<<62)
				if err != nil {
					rt.Fatal(err)
				}
				want := 0
				for key := range model {
					if key.Type == typ && key.Window == w {
						want++
					}
				}
				if len(rows) != want {
					rt.Fatalf("%s %v: %d aggregates, model %d", typ, w, len(rows), want)
				}
				for _, r := range rows {
					if m := model[r.Key]; m == nil || !m.Equal(r.Agg) {
						rt.Fatalf("%v: stored %+v, model %+v", r.Key, r.Agg.Summary(), m)
					}
				}
			}
		}
	})
}
