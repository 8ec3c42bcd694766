package crdt

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func aggOf(values ...float64) *Agg {
	a := NewAgg()
	for _, v := range values {
		a.Observe(v, true, nil)
	}
	return a
}

func TestAggObserve(t *testing.T) {
	a := NewAgg()
	a.Observe(3, true, []byte("u1"))
	a.Observe(-1.5, true, []byte("u2"))
	a.Observe(99, false, []byte("u1")) // counted, value ignored
	a.Observe(math.NaN(), true, nil)
	a.Observe(math.Inf(-1), true, nil)
	a.Observe(10, true, nil)
	if a.Count != 6 || a.Values != 3 || a.Sum != 11.5 || a.Min != -1.5 || a.Max != 10 {
		t.Fatalf("got %+v", a.Summary())
	}
	if a.Mean() != 11.5/3 || a.Distinct() != 2 {
		t.Fatalf("mean %v distinct %d", a.Mean(), a.Distinct())
	}
	if q := a.Quantile(0.5); math.Abs(q-3)/3 > 0.01 {
		t.Fatalf("median %v, want about 3", q)
	}
	if a.Quantile(0) != -1.5 || a.Quantile(1) != 10 || a.Quantile(-3) != -1.5 || a.Quantile(math.NaN()) != -1.5 {
		t.Fatalf("extreme quantiles %v %v", a.Quantile(0), a.Quantile(1))
	}
	if NewAgg().Quantile(0.5) != 0 || NewAgg().Distinct() != 0 || NewAgg().Mean() != 0 {
		t.Fatal("empty aggregate is not all zero")
	}
}

func TestAggSumIsExact(t *testing.T) {
	orders := [][]float64{{1e16, 1, -1e16}, {1e16, -1e16, 1}, {1, 1e16, -1e16}}
	var first *Agg
	for _, vs := range orders {
		a := aggOf(vs...)
		if a.Sum != 1 {
			t.Errorf("%v: Sum = %v, want exactly 1", vs, a.Sum)
		}
		if first != nil && !first.Equal(a) {
			t.Errorf("%v: state depends on order", vs)
		}
		first = a
	}
	big := aggOf(math.MaxFloat64, math.MaxFloat64)
	if big.Sum != math.MaxFloat64 || big.Mean() != math.MaxFloat64 {
		t.Errorf("overflowing sum: Sum %v Mean %v", big.Sum, big.Mean())
	}
	tiny := aggOf(5e-324, 5e-324, -1e-323)
	if tiny.Sum != 0 || tiny.sum.v.Sign() != 0 {
		t.Errorf("subnormal sum %v", tiny.Sum)
	}
}

func TestAggNegativeZero(t *testing.T) {
	a, b := aggOf(math.Copysign(0, -1), 0), aggOf(0, math.Copysign(0, -1))
	if !a.Equal(b) || math.Signbit(a.Min) || math.Signbit(a.Max) {
		t.Fatalf("-0 handling depends on order: %v %v", a.Min, b.Min)
	}
}

func TestAggQuantileTable(t *testing.T) {
	var vs []float64
	for i := 1; i <= 1000; i++ {
		vs = append(vs, float64(i))
	}
	a := aggOf(vs...)
	for _, tt := range []struct{ q, want float64 }{{0, 1}, {0.5, 500}, {0.9, 900}, {0.99, 990}, {1, 1000}} {
		if got := a.Quantile(tt.q); math.Abs(got-tt.want) > 0.01*tt.want {
			t.Errorf("Quantile(%v) = %v, want %v ±1%%", tt.q, got, tt.want)
		}
	}
}

func TestAggSketchBounded(t *testing.T) {
	a := NewAgg()
	for e := -300; e <= 300; e++ {
		a.Observe(math.Pow(10, float64(e)), true, nil)
		a.Observe(-math.Pow(10, float64(e)), true, nil)
	}
	if len(a.pos.counts) > sketchMaxBuckets || len(a.neg.counts) > sketchMaxBuckets {
		t.Fatalf("sketch grew to %d and %d buckets", len(a.pos.counts), len(a.neg.counts))
	}
	if a.pos.total() != 601 || a.neg.total() != 601 {
		t.Fatalf("collapsing lost counts")
	}
	// Rank floor(0.996*1201) = 1196 is 1e295, above the folded buckets.
	if got := a.Quantile(0.996); math.Abs(got-1e295)/1e295 > 0.01 {
		t.Errorf("high quantile %v after collapsing, want 1e295", got)
	}
	b, err := a.MarshalBinary()
	if err != nil || len(b) > MaxAggSize {
		t.Fatalf("encoding of %d bytes, %v", len(b), err)
	}
}

func TestAggSummaryJSON(t *testing.T) {
	empty := NewAgg()
	empty.Observe(0, false, []byte("k"))
	j, err := json.Marshal(empty.Summary())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"count":1,"values":0,"sum":0,"min":null,"max":null,"mean":null,"p50":null,"p90":null,"p99":null,"distinct":1,"redacted":0}`
	if string(j) != want {
		t.Fatalf("got %s\nwant %s", j, want)
	}
	j, _ = json.Marshal(aggOf(2, 4).Summary())
	if !strings.Contains(string(j), `"min":2,"max":4,"mean":3`) {
		t.Fatalf("got %s", j)
	}
}

func TestAggEncodingRoundTrip(t *testing.T) {
	a := NewAgg()
	for i := range 3000 {
		a.Observe(float64(i%37)-10.25, i%5 != 0, []byte{byte(i), byte(i >> 8)})
	}
	for _, src := range []*Agg{NewAgg(), aggOf(0), aggOf(-2), a} {
		b, err := src.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got := aggOf(1, 2, 3)
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(src) || got.Sum != src.Sum || got.Summary() != src.Summary() && got.Values == 0 {
			t.Fatalf("round trip changed %+v", src.Summary())
		}
		b2, _ := got.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Fatal("re-encoding differs")
		}
	}
	if b, _ := NewAgg().MarshalBinary(); !bytes.Equal(b, []byte{1, 0, 0, 0}) {
		t.Errorf("empty encoding = %v", b)
	}
}

func TestAggUnmarshalRejects(t *testing.T) {
	valid, _ := aggOf(1, 2).MarshalBinary()
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"version", []byte{2, 0, 0, 0}},
		{"trailing", []byte{1, 0, 0, 0, 0}},
		{"values above count", []byte{1, 1, 2, 0}},
		{"hll without events", []byte{1, 0, 0, 1, 1, 5, 1}},
		{"truncated", valid[:len(valid)-1]},
		{"too big", make([]byte, MaxAggSize+1)},
		{"bad hll mode", []byte{1, 1, 0, 3}},
		{"hll rho", []byte{1, 1, 0, 1, 1, 5, 41}},
		{"hll unsorted", []byte{1, 1, 0, 1, 2, 5, 1, 0xff, 0xff, 0xff, 0x0f, 1}},
		{"dense hll all zero", append([]byte{1, 1, 0, 2}, make([]byte, hllM)...)},
		{"nan min", append(append([]byte{1, 1, 1}, appendFloat(nil, math.NaN())...), appendFloat(nil, 1)...)},
		{"min above max", append(append([]byte{1, 1, 1}, appendFloat(nil, 2)...), appendFloat(nil, 1)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := aggOf(7)
			before := a.Clone()
			if err := a.UnmarshalBinary(tt.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v", err)
			}
			if !a.Equal(before) || a.Sum != 7 {
				t.Fatal("failed decode changed the aggregate")
			}
		})
	}
	// Every single-byte change of a valid encoding either fails or decodes
	// to something that re-encodes identically.
	for i := range valid {
		for _, delta := range []byte{1, 0x80, 0xff} {
			b := bytes.Clone(valid)
			b[i] += delta
			var a Agg
			if a.UnmarshalBinary(b) == nil {
				if again, _ := a.MarshalBinary(); !bytes.Equal(again, b) {
					t.Fatalf("byte %d+%d: decoded but re-encodes differently", i, delta)
				}
			}
		}
	}
}
