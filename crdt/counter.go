package crdt

import (
	"maps"
	"math"
)

// GCounter is a grow-only counter: one monotonic count per replica, joined
// by pointwise maximum. The zero value is a zero counter ready to use. It is
// not safe for concurrent use.
type GCounter struct {
	n map[string]uint64 // no zero entries
}

// NewGCounter returns a zero counter.
func NewGCounter() *GCounter { return &GCounter{} }

// Inc adds n to replica's count and returns the delta: a counter holding
// replica's new count only. A count saturates at the uint64 maximum rather
// than wrap, which would break monotonicity.
func (g *GCounter) Inc(replica string, n uint64) *GCounter {
	delta := NewGCounter()
	v := addSat(g.n[replica], n)
	if v == 0 {
		return delta
	}
	if g.n == nil {
		g.n = make(map[string]uint64)
	}
	g.n[replica] = v
	delta.n = map[string]uint64{replica: v}
	return delta
}

// Merge joins o into g (pointwise maximum): commutative, associative and
// idempotent.
func (g *GCounter) Merge(o *GCounter) {
	if o == nil {
		return
	}
	for r, v := range o.n {
		if v > g.n[r] {
			if g.n == nil {
				g.n = make(map[string]uint64, len(o.n))
			}
			g.n[r] = v
		}
	}
}

// Value is the total over all replicas, saturating at the uint64 maximum.
func (g *GCounter) Value() uint64 {
	var sum uint64
	for _, v := range g.n {
		sum = addSat(sum, v)
	}
	return sum
}

// Get is replica's own count.
func (g *GCounter) Get(replica string) uint64 { return g.n[replica] }

// Equal reports whether g and o hold the same per-replica counts.
func (g *GCounter) Equal(o *GCounter) bool { return maps.Equal(g.n, o.n) }

// Clone returns a copy of g.
func (g *GCounter) Clone() *GCounter { return &GCounter{n: maps.Clone(g.n)} }

// PNCounter is a counter that goes up and down: a GCounter of increments and
// one of decrements. The zero value is a zero counter ready to use.
type PNCounter struct {
	p, n GCounter
}

// NewPNCounter returns a zero counter.
func NewPNCounter() *PNCounter { return &PNCounter{} }

// Inc adds n for replica and returns the delta.
func (c *PNCounter) Inc(replica string, n uint64) *PNCounter {
	return &PNCounter{p: *c.p.Inc(replica, n)}
}

// Dec subtracts n for replica and returns the delta.
func (c *PNCounter) Dec(replica string, n uint64) *PNCounter {
	return &PNCounter{n: *c.n.Inc(replica, n)}
}

// Merge joins o into c: commutative, associative and idempotent.
func (c *PNCounter) Merge(o *PNCounter) {
	if o == nil {
		return
	}
	c.p.Merge(&o.p)
	c.n.Merge(&o.n)
}

// Value is increments minus decrements, saturating at the int64 range.
func (c *PNCounter) Value() int64 {
	p, n := c.p.Value(), c.n.Value()
	if p >= n {
		return int64(min(p-n, math.MaxInt64))
	}
	if d := n - p; d <= math.MaxInt64 {
		return -int64(d)
	}
	return math.MinInt64
}

// Equal reports whether c and o hold the same per-replica counts.
func (c *PNCounter) Equal(o *PNCounter) bool { return c.p.Equal(&o.p) && c.n.Equal(&o.n) }

// Clone returns a copy of c.
func (c *PNCounter) Clone() *PNCounter {
	return &PNCounter{p: *c.p.Clone(), n: *c.n.Clone()}
}
