package crdt

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

// redactValue keeps the values of one aggregate within a dynamic range
// of 10^9, below the one at which the sketch folds buckets (the documented
// limit of Remove).
func redactValue() *rapid.Generator[float64] {
	return rapid.OneOf(
		rapid.Map(rapid.IntRange(-1_000_000, 1_000_000), func(i int) float64 { return float64(i) / 1000 }),
		rapid.Map(rapid.IntRange(-50, 50), func(i int) float64 { return float64(i) }),
		rapid.SampledFrom([]float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), 0.1, 1e9}),
	)
}

// TestPropRedactionCommutes: whatever the order in which a replica sees
// events and their redactions, and whether it saw a redacted event whole
// before its redaction or only in redacted form, it ends in the same
// state, with the count and exact sum of the events left.
func TestPropRedactionCommutes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		events := rapid.SliceOfN(genObs(redactValue()), 1, 40).Draw(t, "events")
		redacted := make([]bool, len(events))
		var kept []obs
		for i := range events {
			redacted[i] = rapid.Bool().Draw(t, "redacted")
			if !redacted[i] {
				kept = append(kept, events[i])
			}
		}
		want := replay(t, events, redacted, "want")
		for r := range 3 {
			got := replay(t, events, redacted, "replica")
			if !got.Equal(want) {
				t.Fatalf("replica %d: %+v, want %+v", r, got.Summary(), want.Summary())
			}
		}
		ref := aggFrom(kept)
		if want.Count != ref.Count || want.Values != ref.Values || !want.sum.equal(&ref.sum) ||
			want.zero != ref.zero || !want.pos.equal(&ref.pos) || !want.neg.equal(&ref.neg) {
			t.Fatalf("after redactions %+v, the kept events alone %+v", want.Summary(), ref.Summary())
		}
		b, _ := want.MarshalBinary()
		var back Agg
		if err := back.UnmarshalBinary(b); err != nil || !back.Equal(want) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// replay applies events and redactions in a random order: each redacted
// event either arrives whole and is removed later, or arrives only in
// redacted form.
func replay(t *rapid.T, events []obs, redacted []bool, label string) *Agg {
	type op struct {
		i    int
		kind int // 0 observe, 1 remove, 2 observe redacted
	}
	var pending [][]op // per event, its ops in order
	for i := range events {
		switch {
		case !redacted[i]:
			pending = append(pending, []op{{i, 0}})
		case rapid.Bool().Draw(t, label+"-whole"):
			pending = append(pending, []op{{i, 0}, {i, 1}})
		default:
			pending = append(pending, []op{{i, 2}})
		}
	}
	a := NewAgg()
	for len(pending) > 0 {
		k := rapid.IntRange(0, len(pending)-1).Draw(t, label+"-next")
		o := pending[k][0]
		if pending[k] = pending[k][1:]; len(pending[k]) == 0 {
			pending = append(pending[:k], pending[k+1:]...)
		}
		e := events[o.i]
		switch o.kind {
		case 0:
			a.Observe(e.value, e.hasValue, e.key)
		case 1:
			if !a.Remove(e.value, e.hasValue) {
				t.Fatalf("Remove of an observed event failed")
			}
		case 2:
			a.ObserveRedacted(e.key)
		}
		b, _ := a.MarshalBinary()
		var back Agg
		if err := back.UnmarshalBinary(b); err != nil || !back.Equal(a) {
			t.Fatalf("intermediate state does not round-trip: %v", err)
		}
	}
	return a
}

// TestPropRedactedMerge: merging partials with redactions is the same as
// one aggregate over everything, so the merge laws hold with redactions.
func TestPropRedactedMerge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var parts [2]*Agg
		all := NewAgg()
		for p := range parts {
			parts[p] = NewAgg()
			for _, e := range rapid.SliceOf(genObs(redactValue())).Draw(t, "part") {
				parts[p].Observe(e.value, e.hasValue, e.key)
				all.Observe(e.value, e.hasValue, e.key)
				if rapid.Bool().Draw(t, "redact") {
					parts[p].Remove(e.value, e.hasValue)
					all.Remove(e.value, e.hasValue)
				}
			}
		}
		if m := joinAgg(parts[0], parts[1]); !m.Equal(all) || !joinAgg(parts[1], parts[0]).Equal(all) {
			t.Fatalf("merged %+v, whole %+v", m.Summary(), all.Summary())
		}
	})
}

func TestRemoveRejectsWhatWasNotObserved(t *testing.T) {
	a := NewAgg()
	if a.Remove(1, true) {
		t.Fatal("Remove on an empty aggregate succeeded")
	}
	a.Observe(1, true, []byte("d"))
	if a.Remove(500, true) || a.Remove(0, true) || a.Remove(-1, true) {
		t.Fatal("Remove of a value never observed succeeded")
	}
	if !a.Remove(1, true) || a.Count != 0 || a.Values != 0 || a.Sum != 0 || a.Redacted != 1 || a.Distinct() != 1 {
		t.Fatalf("after Remove: %+v", a.Summary())
	}
	a.Observe(-2, true, nil)
	a.Observe(300, true, nil)
	if a.Min >= -1.9 || a.Min < -2.1 || a.Max < 297 || a.Max > 303 {
		t.Fatalf("derived extremes %v %v, want about -2 and 300", a.Min, a.Max)
	}
}
