package crdt

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestGCounter(t *testing.T) {
	g := NewGCounter()
	d := g.Inc("a", 3)
	g.Inc("b", 2)
	g.Inc("a", 1)
	if g.Value() != 6 || g.Get("a") != 4 {
		t.Fatalf("Value = %d, a = %d", g.Value(), g.Get("a"))
	}
	if d.Value() != 3 || d.Get("b") != 0 {
		t.Fatalf("delta = %d", d.Value())
	}
	h := NewGCounter()
	h.Inc("a", 10)
	h.Merge(g)
	if h.Value() != 12 {
		t.Fatalf("merge Value = %d, want 12 (max per replica)", h.Value())
	}
	if g.Inc("z", 0).Value() != 0 || !NewGCounter().Equal(&GCounter{}) {
		t.Fatal("zero increment stored an entry")
	}
	g.Inc("a", math.MaxUint64)
	if g.Get("a") != math.MaxUint64 || g.Value() != math.MaxUint64 {
		t.Fatalf("count wrapped: %d %d", g.Get("a"), g.Value())
	}
}

func TestPNCounter(t *testing.T) {
	tests := []struct {
		name     string
		inc, dec uint64
		want     int64
	}{
		{"positive", 5, 2, 3},
		{"negative", 2, 5, -3},
		{"zero", 4, 4, 0},
		{"saturates up", math.MaxUint64, 0, math.MaxInt64},
		{"saturates down", 0, math.MaxUint64, math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewPNCounter()
			c.Inc("r", tt.inc)
			c.Dec("r", tt.dec)
			if got := c.Value(); got != tt.want {
				t.Errorf("Value = %d, want %d", got, tt.want)
			}
		})
	}
}

type counterOp struct {
	replica string
	n       uint64
	dec     bool
}

func genCounterOps() *rapid.Generator[[]counterOp] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) counterOp {
		return counterOp{
			rapid.SampledFrom(testOrigins).Draw(t, "replica"),
			rapid.Uint64Range(0, 100).Draw(t, "n"),
			rapid.Bool().Draw(t, "dec"),
		}
	}), 0, 20)
}

func pnFrom(ops []counterOp) (*PNCounter, []*PNCounter) {
	c := NewPNCounter()
	var deltas []*PNCounter
	for _, op := range ops {
		if op.dec {
			deltas = append(deltas, c.Dec(op.replica, op.n))
		} else {
			deltas = append(deltas, c.Inc(op.replica, op.n))
		}
	}
	return c, deltas
}

func TestPropCounterLattice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, _ := pnFrom(genCounterOps().Draw(t, "a"))
		b, _ := pnFrom(genCounterOps().Draw(t, "b"))
		c, _ := pnFrom(genCounterOps().Draw(t, "c"))
		join := func(x, y *PNCounter) *PNCounter { z := x.Clone(); z.Merge(y); return z }
		if !join(a, b).Equal(join(b, a)) {
			t.Fatal("PNCounter merge not commutative")
		}
		if !join(join(a, b), c).Equal(join(a, join(b, c))) {
			t.Fatal("PNCounter merge not associative")
		}
		if !join(a, a).Equal(a) {
			t.Fatal("PNCounter merge not idempotent")
		}
		ga, gb, gc := &a.p, &b.p, &c.n
		gjoin := func(x, y *GCounter) *GCounter { z := x.Clone(); z.Merge(y); return z }
		if !gjoin(ga, gb).Equal(gjoin(gb, ga)) || !gjoin(gjoin(ga, gb), gc).Equal(gjoin(ga, gjoin(gb, gc))) ||
			!gjoin(ga, ga).Equal(ga) {
			t.Fatal("GCounter merge is not a join")
		}
	})
}

func TestPropCounterDeltas(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Each replica increments only its own entry, as in real use.
		var all []*PNCounter
		full := NewPNCounter()
		var want int64
		for _, r := range testOrigins {
			ops := genCounterOps().Draw(t, r)
			for i := range ops {
				ops[i].replica = r
				if ops[i].dec {
					want -= int64(ops[i].n)
				} else {
					want += int64(ops[i].n)
				}
			}
			c, deltas := pnFrom(ops)
			full.Merge(c)
			all = append(all, deltas...)
			all = append(all, deltas...) // every delta twice
		}
		all = rapid.Permutation(all).Draw(t, "order")
		got := NewPNCounter()
		for _, d := range all {
			got.Merge(d)
		}
		if !got.Equal(full) || got.Value() != want {
			t.Fatalf("deltas give %d, full states %d, want %d", got.Value(), full.Value(), want)
		}
	})
}
