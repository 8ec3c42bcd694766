package crdt

import "math"

// Redaction support. A redacted event leaves the aggregates it fed, as far
// as they can be inverted, and every replica ends in the same state
// whether it observed the event before the redaction (Remove) or only
// ever saw the redacted form (ObserveRedacted):
//
//   - Count, Values, the exact sum, the zero count and the quantile
//     sketch's buckets are counts and integer sums: the event's share is
//     subtracted exactly.
//   - Min and Max cannot be taken back (the next extreme is unknown). Once
//     an aggregate has a redacted event (Redacted > 0) they are derived
//     from the sketch instead: the representative value of the lowest and
//     highest non-empty buckets, within the sketch's 1% relative accuracy,
//     a function of the buckets alone and so equal on every replica. The
//     lowest and highest quantiles are then approximate too.
//   - The distinct count (HyperLogLog) cannot forget a key: a redacted
//     event's distinct key (the device id, which stays visible) counts on
//     every replica, both paths add it.
//   - A sketch whose values span more than its 2048 buckets (a dynamic
//     range of about 10^12 within one window) has folded its smallest
//     buckets; removing a value after the fold may then leave the
//     quantiles of the smallest magnitudes slightly different from a
//     replica that never saw it. Counts, sums and Min/Max stay exact as
//     described.

// Remove takes back one event observed with Observe(value, hasValue, key):
// its count and its value's share of the sum and the sketch, and counts it
// as redacted. It reports false, changing nothing, when a cannot hold such
// an event (no events, or no value in the bucket the value would occupy).
func (a *Agg) Remove(value float64, hasValue bool) bool {
	if a.Count == 0 {
		return false
	}
	if hasValue && !math.IsNaN(value) && !math.IsInf(value, 0) {
		if value == 0 {
			value = 0
		}
		if a.Values == 0 || !a.takeValue(value) {
			return false
		}
		a.Values--
		a.sum.add(-value)
		a.Sum = a.sum.float64()
	}
	a.Count--
	a.Redacted++
	a.deriveExtremes()
	return true
}

// takeValue removes value from the sketch, if its bucket holds one.
func (a *Agg) takeValue(v float64) bool {
	switch {
	case v > 0:
		return a.pos.remove(sketchIndex(v))
	case v < 0:
		return a.neg.remove(sketchIndex(-v))
	case a.zero > 0:
		a.zero--
		return true
	}
	return false
}

// ObserveRedacted counts an event that arrived already redacted: no count
// or value, only its distinct key (nil skips it, as for Observe) and one
// more redacted event.
func (a *Agg) ObserveRedacted(distinctKey []byte) {
	if distinctKey != nil {
		a.hll.add(hashKey(distinctKey))
	}
	a.Redacted++
	a.deriveExtremes()
}

// deriveExtremes sets Min and Max from the sketch once a has a redacted
// event; see the comment at the top of this file.
func (a *Agg) deriveExtremes() {
	if a.Redacted == 0 {
		return
	}
	a.Min, a.Max = a.sketchExtremes()
}

// sketchExtremes are the representatives of the lowest and highest
// non-empty buckets (0, 0 without values).
func (a *Agg) sketchExtremes() (lo, hi float64) {
	if a.Values == 0 {
		return 0, 0
	}
	switch {
	case len(a.neg.counts) > 0:
		lo = -sketchValue(a.neg.hi())
	case a.zero > 0:
		lo = 0
	default:
		lo = sketchValue(a.pos.offset)
	}
	switch {
	case len(a.pos.counts) > 0:
		hi = sketchValue(a.pos.hi())
	case a.zero > 0:
		hi = 0
	default:
		hi = -sketchValue(a.neg.offset)
	}
	return lo, hi
}

// remove takes one count from the bucket add(idx, 1) would have used (the
// lowest one for an index folded below the span) and trims empty buckets
// from both ends. It reports false if that bucket is empty.
func (s *bucketStore) remove(idx int32) bool {
	if len(s.counts) == 0 || idx > s.hi() {
		return false
	}
	i := max(idx, s.offset) - s.offset
	if s.counts[i] == 0 {
		return false
	}
	s.counts[i]--
	lo, hi := 0, len(s.counts)
	for lo < hi && s.counts[lo] == 0 {
		lo++
	}
	for hi > lo && s.counts[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		s.offset, s.counts = 0, nil
		return true
	}
	s.offset += int32(lo)
	s.counts = append(s.counts[:0], s.counts[lo:hi]...)
	return true
}
