package crdt

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func eqString(a, b string) bool { return a == b }

func TestORSetAddRemove(t *testing.T) {
	s := NewORSet[string]()
	d1, d2 := Dot{"a", 1}, Dot{"a", 2}
	delta := s.Add(d1, "one")
	if v, ok := delta.Get(d1); !ok || v != "one" || !delta.Context().Equal(ctxOf(Range{"a", 1, 1})) {
		t.Fatalf("add delta = %v %v", delta.Dots(), delta.Context().Ranges())
	}
	s.Add(d2, "two")
	if again := s.Add(d1, "changed"); again.Len() != 1 {
		t.Fatalf("re-add delta lost the entry")
	}
	if v, _ := s.Get(d1); v != "one" {
		t.Fatalf("re-adding a dot changed its value to %q", v)
	}
	rm := s.Remove(d1)
	if rm.Len() != 0 || !rm.Context().Contains(d1) {
		t.Fatalf("remove delta = %v %v", rm.Dots(), rm.Context().Ranges())
	}
	if _, ok := s.Get(d1); ok || s.Len() != 1 || !s.Context().Contains(d1) {
		t.Fatalf("after remove: %v, context %v", s.Dots(), s.Context().Ranges())
	}
	if s.Add(d1, "back").Len() != 0 {
		t.Fatalf("a removed dot came back")
	}
	if _, ok := s.Get(d1); ok {
		t.Fatalf("a removed dot came back")
	}
	if got := s.Add(Dot{"a", 0}, "bad"); got.Len() != 0 || got.Context().Len() != 0 || s.Len() != 1 {
		t.Fatalf("invalid dot was added")
	}
}

func TestORSetNoResurrection(t *testing.T) {
	a, b := NewORSet[string](), NewORSet[string]()
	d := Dot{"x", 1}
	b.Merge(a.Add(d, "v"))
	a.Remove(d)
	a.Merge(b) // b still holds the entry
	if _, ok := a.Get(d); ok {
		t.Fatal("merge resurrected a removed entry")
	}
	b.Merge(a)
	if _, ok := b.Get(d); ok {
		t.Fatal("the removal did not reach b")
	}
	// Removing an event never seen keeps it out for good.
	c := NewORSet[string]()
	c.Remove(Dot{"y", 3})
	c.Merge(NewORSet[string]().Add(Dot{"y", 3}, "late").Clone())
	if c.Len() != 0 {
		t.Fatal("a dot removed before arrival was added")
	}
}

func TestORSetDotsSortedAndExtract(t *testing.T) {
	s := NewORSet[string]()
	for _, d := range []Dot{{"b", 2}, {"a", 10}, {"a", 2}, {"b", 1}, {"a", 3}} {
		s.Add(d, d.String())
	}
	s.Remove(Dot{"a", 3})
	want := []Dot{{"a", 2}, {"a", 10}, {"b", 1}, {"b", 2}}
	if got := s.Dots(); !slices.Equal(got, want) {
		t.Fatalf("Dots = %v, want %v", got, want)
	}
	ex := s.Extract([]Range{{"a", 1, 5}, {"b", 2, 100}, {"zz", 1, 1}, {"a", 0, 1}})
	if got := ex.Dots(); !slices.Equal(got, []Dot{{"a", 2}, {"b", 2}}) {
		t.Fatalf("Extract dots = %v", got)
	}
	if got := ex.Context().Ranges(); !slices.Equal(got, []Range{{"a", 2, 3}, {"b", 2, 2}}) {
		t.Fatalf("Extract context = %v", got)
	}
	var zero ORSet[int]
	zero.Merge(NewORSet[int]().Add(Dot{"a", 1}, 7))
	if v, ok := zero.Get(Dot{"a", 1}); !ok || v != 7 {
		t.Fatal("zero ORSet is not usable")
	}
}

// genORSet builds a replica by random adds and removes. A dot's value is a
// function of the dot, as it is for real events.
func genORSet() *rapid.Generator[*ORSet[string]] {
	return rapid.Custom(func(t *rapid.T) *ORSet[string] {
		s, _ := opsORSet(t, "ops")
		return s
	})
}

func opsORSet(t *rapid.T, label string) (*ORSet[string], []*ORSet[string]) {
	s := NewORSet[string]()
	var deltas []*ORSet[string]
	n := rapid.IntRange(0, 25).Draw(t, label+" count")
	for range n {
		d := genDot().Draw(t, label+" dot")
		if rapid.IntRange(0, 3).Draw(t, label+" op") == 0 {
			deltas = append(deltas, s.Remove(d))
		} else {
			deltas = append(deltas, s.Add(d, fmt.Sprint(d)))
		}
	}
	return s, deltas
}

func joinOR(x, y *ORSet[string]) *ORSet[string] { z := x.Clone(); z.Merge(y); return z }

func TestPropORSetLattice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genORSet().Draw(t, "a"), genORSet().Draw(t, "b"), genORSet().Draw(t, "c")
		if !joinOR(a, b).EqualFunc(joinOR(b, a), eqString) {
			t.Fatal("not commutative")
		}
		if !joinOR(joinOR(a, b), c).EqualFunc(joinOR(a, joinOR(b, c)), eqString) {
			t.Fatal("not associative")
		}
		if !joinOR(a, a).EqualFunc(a, eqString) {
			t.Fatal("not idempotent")
		}
		ab := joinOR(a, b)
		for _, d := range ab.Dots() {
			if !ab.Context().Contains(d) {
				t.Fatalf("entry %v outside the context", d)
			}
			inA, inB := a.entries[d], b.entries[d]
			if (inA == "" && a.ctx.Contains(d)) || (inB == "" && b.ctx.Contains(d)) {
				t.Fatalf("removed %v resurrected", d)
			}
		}
	})
}

func TestPropORSetDeltasEqualFullState(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, da := opsORSet(t, "a")
		b, db := opsORSet(t, "b")
		deltas := append(slices.Clone(da), db...)
		for _, i := range rapid.SliceOfN(rapid.IntRange(0, 1000), 0, 10).Draw(t, "dups") {
			if len(deltas) > 0 {
				deltas = append(deltas, deltas[i%len(deltas)])
			}
		}
		deltas = rapid.Permutation(deltas).Draw(t, "order")
		got := NewORSet[string]()
		for _, d := range deltas {
			got.Merge(d)
		}
		if want := joinOR(a, b); !got.EqualFunc(want, eqString) {
			t.Fatalf("deltas give %v, full states %v", got.Dots(), want.Dots())
		}
	})
}

func TestPropORSetExtractMissing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genORSet().Draw(t, "a"), genORSet().Draw(t, "b")
		patched := joinOR(b, a.Extract(a.Context().Missing(b.Context())))
		want := joinOR(b, a)
		if !patched.Context().Equal(want.Context()) {
			t.Fatalf("context after Extract %v, want %v", patched.Context().Ranges(), want.Context().Ranges())
		}
		// Entries agree, except that a removal of a dot b already holds is not
		// in Missing: it travels as its own Remove delta.
		for _, d := range patched.Dots() {
			if _, ok := want.Get(d); !ok {
				if _, inB := b.Get(d); !inB || !a.Context().Contains(d) {
					t.Fatalf("unexpected entry %v", d)
				}
			}
		}
		for _, d := range want.Dots() {
			if _, ok := patched.Get(d); !ok {
				t.Fatalf("missing entry %v", d)
			}
		}
	})
}
