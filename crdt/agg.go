package crdt

import "math"

// Agg is a mergeable partial aggregate over a set of events: the number of
// events, and over their numeric observations the count, sum, min, max, a
// quantile sketch (1% relative accuracy) and a HyperLogLog distinct count
// of their distinct keys.
//
// Merge is commutative and associative with NewAgg() as identity, but only
// min, max and the distinct-count registers are idempotent: merging the
// same partial twice counts its events twice. Use Aggregates for
// exactly-once application.
//
// The exported fields are read-only views kept current by Observe, Merge
// and UnmarshalBinary; do not set them. Min and Max are 0 while Values is
// 0. Sum is the exact sum rounded to float64 (saturating at
// ±math.MaxFloat64). An Agg must not be copied by value; use Clone.
type Agg struct {
	// Count is the number of events observed.
	Count uint64
	// Values is the number of finite numeric values among them.
	Values uint64
	// Sum, Min and Max are over the finite values. Once Redacted > 0, Min
	// and Max are the sketch's estimates (see Remove).
	Sum, Min, Max float64
	// Redacted is the number of redacted events: taken back with Remove or
	// seen only in redacted form (ObserveRedacted). They are not in Count.
	Redacted uint64

	sum  exactSum
	zero uint64 // values equal to zero
	pos  bucketStore
	neg  bucketStore // by magnitude
	hll  hll
}

// NewAgg returns an empty aggregate, the identity of Merge.
func NewAgg() *Agg { return &Agg{} }

// Observe adds one event. With hasValue false, or a NaN or infinite value,
// only the event is counted. A nil distinctKey skips the distinct count;
// an empty non-nil key counts as a key.
func (a *Agg) Observe(value float64, hasValue bool, distinctKey []byte) {
	if distinctKey == nil {
		a.observe(value, hasValue)
		return
	}
	a.ObserveHashed(value, hasValue, DistinctHash(distinctKey))
}

// DistinctHash is the hash Observe takes of a distinct key: a caller
// observing one key in several aggregates hashes it once.
func DistinctHash(distinctKey []byte) uint64 { return hashKey(distinctKey) }

// ObserveHashed is Observe given DistinctHash of the distinct key.
func (a *Agg) ObserveHashed(value float64, hasValue bool, distinctHash uint64) {
	a.hll.add(distinctHash)
	a.observe(value, hasValue)
}

func (a *Agg) observe(value float64, hasValue bool) {
	a.Count++
	if !hasValue || math.IsNaN(value) || math.IsInf(value, 0) {
		return
	}
	if value == 0 {
		value = 0 // -0 becomes +0, so Min and Max do not depend on order
	}
	if a.Values == 0 || value < a.Min {
		a.Min = value
	}
	if a.Values == 0 || value > a.Max {
		a.Max = value
	}
	a.Values++
	a.sum.add(value)
	a.Sum = a.sum.float64()
	switch {
	case value > 0:
		a.pos.add(sketchIndex(value), 1)
	case value < 0:
		a.neg.add(sketchIndex(-value), 1)
	default:
		a.zero++
	}
	a.deriveExtremes()
}

// Merge adds the partial o, over a set of events disjoint from a's, into a.
// o is not modified; merging a into itself doubles its counts.
func (a *Agg) Merge(o *Agg) {
	if o == nil {
		return
	}
	if o == a {
		o = a.Clone()
	}
	a.Count += o.Count
	a.Redacted += o.Redacted
	a.hll.merge(&o.hll)
	defer a.deriveExtremes()
	if o.Values == 0 {
		return
	}
	if a.Values == 0 || o.Min < a.Min {
		a.Min = o.Min
	}
	if a.Values == 0 || o.Max > a.Max {
		a.Max = o.Max
	}
	a.Values += o.Values
	a.sum.merge(&o.sum)
	a.Sum = a.sum.float64()
	a.zero += o.zero
	a.pos.merge(&o.pos)
	a.neg.merge(&o.neg)
}

// Quantile estimates the q-quantile (0 <= q <= 1, clamped) of the values:
// the value of rank floor(q*(Values-1)) in ascending order, within 1%
// relative error and clamped to [Min, Max]; the lowest and highest ranks
// are Min and Max exactly. It is 0 if there are no values.
func (a *Agg) Quantile(q float64) float64 {
	if a.Values == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		q = 0
	}
	rank := min(uint64(float64(min(q, 1)*float64(a.Values-1))), a.Values-1)
	switch rank {
	case 0:
		return a.Min
	case a.Values - 1:
		return a.Max
	}
	return min(max(a.valueAt(rank), a.Min), a.Max)
}

// valueAt is the sketch's estimate of the value of 0-based rank.
func (a *Agg) valueAt(rank uint64) float64 {
	var seen uint64
	for i := len(a.neg.counts) - 1; i >= 0; i-- {
		if seen += a.neg.counts[i]; seen > rank {
			return -sketchValue(a.neg.offset + int32(i))
		}
	}
	if seen += a.zero; seen > rank {
		return 0
	}
	for i, c := range a.pos.counts {
		if seen += c; seen > rank {
			return sketchValue(a.pos.offset + int32(i))
		}
	}
	return a.Max // unreachable while the sketch totals Values
}

// Distinct estimates the number of distinct keys observed (standard error
// 1.6%, nearly exact below about a thousand).
func (a *Agg) Distinct() uint64 { return a.hll.estimate() }

// Mean is the exact mean of the values rounded to float64; 0 if none.
func (a *Agg) Mean() float64 {
	if a.Values == 0 {
		return 0
	}
	return a.sum.quo(a.Values)
}

// Equal reports whether a and o hold the same state.
func (a *Agg) Equal(o *Agg) bool {
	return a.Count == o.Count && a.Values == o.Values && a.Redacted == o.Redacted &&
		math.Float64bits(a.Min) == math.Float64bits(o.Min) &&
		math.Float64bits(a.Max) == math.Float64bits(o.Max) &&
		a.sum.equal(&o.sum) && a.zero == o.zero &&
		a.pos.equal(&o.pos) && a.neg.equal(&o.neg) && a.hll.equal(&o.hll)
}

// Clone returns a deep copy of a.
func (a *Agg) Clone() *Agg {
	c := &Agg{
		Count: a.Count, Values: a.Values, Sum: a.Sum, Min: a.Min, Max: a.Max, Redacted: a.Redacted,
		zero: a.zero, pos: a.pos.clone(), neg: a.neg.clone(), hll: a.hll.clone(),
	}
	c.sum.set(&a.sum)
	return c
}

// AggSummary is a JSON-friendly view of an Agg. The value statistics are
// null when there are no values.
type AggSummary struct {
	Count    uint64   `json:"count"`
	Values   uint64   `json:"values"`
	Sum      float64  `json:"sum"`
	Min      *float64 `json:"min"`
	Max      *float64 `json:"max"`
	Mean     *float64 `json:"mean"`
	P50      *float64 `json:"p50"`
	P90      *float64 `json:"p90"`
	P99      *float64 `json:"p99"`
	Distinct uint64   `json:"distinct"`
	Redacted uint64   `json:"redacted"`
}

// Summary returns the aggregate's headline numbers.
func (a *Agg) Summary() AggSummary {
	s := AggSummary{Count: a.Count, Values: a.Values, Sum: a.Sum, Distinct: a.Distinct(), Redacted: a.Redacted}
	if a.Values > 0 {
		s.Min, s.Max, s.Mean = ptr(a.Min), ptr(a.Max), ptr(a.Mean())
		s.P50, s.P90, s.P99 = ptr(a.Quantile(0.5)), ptr(a.Quantile(0.9)), ptr(a.Quantile(0.99))
	}
	return s
}

func ptr(f float64) *float64 { return &f }
