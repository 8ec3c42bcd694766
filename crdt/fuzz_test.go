package crdt

import (
	"bytes"
	"math"
	"testing"
)

func FuzzContextUnmarshal(f *testing.F) {
	for _, c := range []*Context{
		NewContext(),
		ctxOf(Range{"a", 1, 3}, Range{"a", 7, 8}, Range{"b", 2, 2}),
		ctxOf(Range{"device-1", 1, 1 << 40}, Range{"x", math.MaxUint64 - 2, math.MaxUint64}),
	} {
		b, _ := c.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 1, 1, 'a', 0x81, 0x00, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := ctxOf(Range{"keep", 1, 2})
		if err := c.UnmarshalBinary(b); err != nil {
			if !c.Equal(ctxOf(Range{"keep", 1, 2})) {
				t.Fatal("failed decode changed the context")
			}
			return
		}
		again, err := c.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded input does not re-encode to itself: %v", err)
		}
		var c2 Context
		c2.Merge(c)
		if !c2.Equal(c) || c2.Digest() != c.Digest() || c.Missing(&c2) != nil {
			t.Fatal("decoded context is inconsistent")
		}
	})
}

func FuzzDecodeOrigin(f *testing.F) {
	c := ctxOf(Range{"a", 1, 3}, Range{"a", 7, 8}, Range{"a", 100, 200})
	f.Add("a", c.EncodeOrigin("a"))
	f.Add("b", c.EncodeOrigin("b"))
	f.Add("a", []byte{1, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, origin string, b []byte) {
		c := ctxOf(Range{"a", 5, 5}, Range{"z", 1, 1})
		before := c.Clone()
		if err := c.DecodeOrigin(origin, b); err != nil {
			if !c.Equal(before) {
				t.Fatal("failed decode changed the context")
			}
			return
		}
		if again := c.EncodeOrigin(origin); !bytes.Equal(again, b) {
			t.Fatalf("decoded state re-encodes as %v", again)
		}
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatalf("decoded origin cannot be marshalled: %v", err)
		}
		for _, o := range c.Origins() {
			if o != origin && !c.state(o).equal(before.state(o)) {
				t.Fatalf("origin %q changed", o)
			}
		}
	})
}

// FuzzAggUnmarshal's seeds include a dense distinct-count sketch (5 KB);
// minimising inputs that large stalls the fuzzer, so run it with a short
// -fuzzminimizetime, e.g. go test -fuzz FuzzAggUnmarshal -fuzzminimizetime 1s.
func FuzzAggUnmarshal(f *testing.F) {
	big := NewAgg()
	for i := range 2000 {
		big.Observe(float64(i)*1.5-300, true, []byte{byte(i), byte(i >> 8)})
	}
	for _, a := range []*Agg{NewAgg(), aggOf(0), aggOf(1, 2, -3.5), big} {
		b, _ := a.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a := aggOf(42)
		if err := a.UnmarshalBinary(b); err != nil {
			if !a.Equal(aggOf(42)) {
				t.Fatal("failed decode changed the aggregate")
			}
			return
		}
		again, _ := a.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatal("decoded input does not re-encode to itself")
		}
		// A decoded aggregate must be usable: merge, query, summarise.
		m := a.Clone()
		m.Merge(a)
		m.Observe(1, true, []byte("k"))
		for _, q := range []float64{0, 0.5, 1} {
			if v := a.Quantile(q); a.Values > 0 && (v < a.Min || v > a.Max) {
				t.Fatalf("Quantile(%v) = %v outside [%v, %v]", q, v, a.Min, a.Max)
			}
		}
		_ = a.Summary()
	})
}
