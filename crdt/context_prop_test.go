package crdt

import (
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

var testOrigins = []string{"a", "b", "c"}

// genSeq draws seqs from two clusters: small ones, and ones at the top of
// the uint64 range where +1 overflows.
func genSeq() *rapid.Generator[uint64] {
	return rapid.OneOf(rapid.Uint64Range(1, 30), rapid.Uint64Range(math.MaxUint64-30, math.MaxUint64))
}

func genDot() *rapid.Generator[Dot] {
	return rapid.Custom(func(t *rapid.T) Dot {
		return Dot{rapid.SampledFrom(testOrigins).Draw(t, "origin"), genSeq().Draw(t, "seq")}
	})
}

func genRange() *rapid.Generator[Range] {
	return rapid.Custom(func(t *rapid.T) Range {
		d := genDot().Draw(t, "from")
		n := rapid.Uint64Range(0, 8).Draw(t, "len")
		to := d.Seq + n
		if to < d.Seq || (d.Seq <= 30 && to > 30) {
			to = max(d.Seq, min(to, 30))
			if d.Seq > 30 {
				to = math.MaxUint64
			}
		}
		return Range{d.Origin, d.Seq, to}
	})
}

func genContext() *rapid.Generator[*Context] {
	return rapid.Custom(func(t *rapid.T) *Context {
		c := NewContext()
		for _, r := range rapid.SliceOfN(genRange(), 0, 12).Draw(t, "ranges") {
			c.AddRange(r)
		}
		return c
	})
}

// model enumerates the dots of c (test contexts hold few).
func model(c *Context) map[Dot]bool {
	m := map[Dot]bool{}
	for _, r := range c.Ranges() {
		for s := r.From; ; s++ {
			m[Dot{r.Origin, s}] = true
			if s == r.To {
				break
			}
		}
	}
	return m
}

// checkCompact asserts the representation invariant.
func checkCompact(t *rapid.T, c *Context) {
	keys := c.Origins()
	if !slices.IsSorted(keys) || len(keys) != len(c.m) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Fatalf("list %v does not match the map", keys)
	}
	for i, k := range keys {
		st := c.m[k]
		if st == nil || st != c.list[i] || st.origin != k || st.empty() {
			t.Fatalf("origin %q has no dots", k)
		}
		prev := st.max
		for _, s := range st.extra {
			if s.from > s.to || s.from < 2 || s.from-2 < prev {
				t.Fatalf("origin %q not compacted: max %d extra %v", k, st.max, st.extra)
			}
			prev = s.to
		}
	}
}

func TestPropContextMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := NewContext()
		m := map[Dot]bool{}
		for _, d := range rapid.SliceOfN(genDot(), 0, 40).Draw(t, "dots") {
			if got, want := c.Add(d), !m[d]; got != want {
				t.Fatalf("Add(%v) = %v, want %v", d, got, want)
			}
			m[d] = true
		}
		checkCompact(t, c)
		if got := model(c); len(got) != len(m) || c.Len() != uint64(len(m)) {
			t.Fatalf("holds %d dots (Len %d), want %d", len(got), c.Len(), len(m))
		}
		for d := range m {
			if !c.Contains(d) {
				t.Fatalf("lost %v", d)
			}
		}
		for _, o := range testOrigins {
			var want, high uint64
			for m[Dot{o, want + 1}] {
				want++
			}
			for d := range m {
				if d.Origin == o {
					high = max(high, d.Seq)
				}
			}
			if c.Max(o) != want || c.Highest(o) != high {
				t.Fatalf("%s: Max %d Highest %d, want %d %d", o, c.Max(o), c.Highest(o), want, high)
			}
		}
	})
}

func TestPropContextLattice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genContext().Draw(t, "a"), genContext().Draw(t, "b"), genContext().Draw(t, "c")
		join := func(x, y *Context) *Context { z := x.Clone(); z.Merge(y); return z }
		if ab, ba := join(a, b), join(b, a); !ab.Equal(ba) {
			t.Fatalf("not commutative: %v vs %v", ab.Ranges(), ba.Ranges())
		}
		if l, r := join(join(a, b), c), join(a, join(b, c)); !l.Equal(r) {
			t.Fatalf("not associative")
		}
		if aa := join(a, a); !aa.Equal(a) {
			t.Fatalf("not idempotent")
		}
		ab := join(a, b)
		checkCompact(t, ab)
		want := model(a)
		for d := range model(b) {
			want[d] = true
		}
		if got := model(ab); len(got) != len(want) {
			t.Fatalf("join holds %d dots, want %d", len(got), len(want))
		}
		self := a.Clone()
		self.Merge(self)
		if !self.Equal(a) {
			t.Fatalf("self merge changed the context")
		}
	})
}

func TestPropContextMissing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genContext().Draw(t, "a"), genContext().Draw(t, "b")
		miss := a.Missing(b)
		ma, mb := model(a), model(b)
		n := 0
		for i, r := range miss {
			if i > 0 {
				p := miss[i-1]
				if p.Origin > r.Origin || p.Origin == r.Origin && p.To >= r.From-1 {
					t.Fatalf("ranges not sorted and maximal: %v", miss)
				}
			}
			for s := r.From; ; s++ {
				if d := (Dot{r.Origin, s}); !ma[d] || mb[d] {
					t.Fatalf("%v is not in a minus b", d)
				}
				n++
				if s == r.To {
					break
				}
			}
		}
		want := 0
		for d := range ma {
			if !mb[d] {
				want++
			}
		}
		if n != want {
			t.Fatalf("Missing covers %d dots, want %d", n, want)
		}
		patched := b.Clone()
		for _, r := range miss {
			patched.AddRange(r)
		}
		union := a.Clone()
		union.Merge(b)
		if !patched.Equal(union) {
			t.Fatalf("b + Missing(a, b) != a ∪ b")
		}
	})
}

func TestPropContextDeltasEqualFullState(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dots := rapid.SliceOfN(genDot(), 0, 30).Draw(t, "dots")
		full := NewContext()
		var deltas []*Context
		for _, d := range dots {
			full.Add(d)
			delta := NewContext()
			delta.Add(d)
			deltas = append(deltas, delta)
		}
		// Duplicate some deltas, then shuffle.
		extra := rapid.SliceOfN(rapid.IntRange(0, max(0, len(deltas)-1)), 0, len(deltas)).Draw(t, "dups")
		for _, i := range extra {
			if len(deltas) > 0 {
				deltas = append(deltas, deltas[i])
			}
		}
		deltas = rapid.Permutation(deltas).Draw(t, "order")
		got := NewContext()
		for _, d := range deltas {
			got.Merge(d)
		}
		if !got.Equal(full) {
			t.Fatalf("deltas give %v, full state %v", got.Ranges(), full.Ranges())
		}
	})
}

func TestPropContextEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genContext().Draw(t, "a"), genContext().Draw(t, "b")
		if (a.Digest() == b.Digest()) != a.Equal(b) {
			t.Fatalf("Digest equality disagrees with Equal")
		}
		enc, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got := genContext().Draw(t, "target") // decoding replaces, whatever was there
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(a) || got.Digest() != a.Digest() {
			t.Fatalf("round trip changed the context")
		}
		checkCompact(t, got)
		restored := b.Clone()
		for _, o := range testOrigins {
			if err := restored.DecodeOrigin(o, a.EncodeOrigin(o)); err != nil {
				t.Fatal(err)
			}
		}
		if !restored.Equal(a) {
			t.Fatalf("per-origin round trip changed the context")
		}
		checkCompact(t, restored)
	})
}
