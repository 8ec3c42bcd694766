package crdt

import (
	"encoding/binary"
	"fmt"
	"math"
)

// MaxAggSize is the largest Agg encoding UnmarshalBinary accepts. Every Agg
// encodes within it: the sketch stores are bounded to 2048 buckets each and
// the distinct-count sketch to 4096 registers.
const MaxAggSize = 1 << 16

// Agg encoding, format version 1:
//
//	agg    = version:byte(1) count:uvarint values:uvarint [stats] hll
//	stats  = min:float64le max:float64le sum zeros:uvarint pos:store neg:store   only if values > 0
//	sum    = sign:byte(0) | sign:byte(1 or 2) shift:uvarint n:uvarint odd:n   |sum| = odd<<shift steps of 2^-1074
//	store  = n:uvarint (index:uvarint count:uvarint)*n    first index from the minimum, then gaps minus one
//	hll    = 0 | 1 n:uvarint (index:uvarint rho:byte)*n | 2 registers:4096 bytes
//
// Every field has exactly one encoding for a given state.
//
// Format version 2 is the same with a redacted-event count after values,
// and is used exactly when that count is non-zero (so an aggregate without
// redactions keeps its version 1 bytes):
//
//	agg    = version:byte(2) count:uvarint values:uvarint redacted:uvarint [stats] hll
//
// Min and max must then equal the sketch's extremes (see Agg.Remove).
const aggFormatV2 = 2

// MarshalBinary returns the canonical encoding of a. It never fails.
func (a *Agg) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 64)
	if a.Redacted == 0 {
		b = append(b, formatV1)
	} else {
		b = append(b, aggFormatV2)
	}
	b = binary.AppendUvarint(b, a.Count)
	b = binary.AppendUvarint(b, a.Values)
	if a.Redacted > 0 {
		b = binary.AppendUvarint(b, a.Redacted)
	}
	if a.Values > 0 {
		b = appendFloat(b, a.Min)
		b = appendFloat(b, a.Max)
		b = a.sum.appendTo(b)
		b = binary.AppendUvarint(b, a.zero)
		b = a.pos.appendTo(b)
		b = a.neg.appendTo(b)
	}
	return a.hll.appendTo(b), nil
}

// UnmarshalBinary replaces a with the decoded aggregate. It validates the
// input fully (size at most MaxAggSize, canonical form, counts that add
// up, min <= max, buckets within bounds, no trailing bytes); on error it
// wraps ErrMalformed and leaves a unchanged. It does not retain b.
func (a *Agg) UnmarshalBinary(b []byte) error {
	if len(b) > MaxAggSize {
		return fmt.Errorf("%w: agg of %d bytes, limit %d", ErrMalformed, len(b), MaxAggSize)
	}
	r := &reader{b: b}
	v := r.byte("format version")
	if r.err == nil && v != formatV1 && v != aggFormatV2 {
		r.fail("unknown format version %d", v)
	}
	out := &Agg{Count: r.uvarint("count"), Values: r.uvarint("values")}
	if v == aggFormatV2 {
		if out.Redacted = r.uvarint("redacted"); r.err == nil && out.Redacted == 0 {
			r.fail("version 2 without redacted events")
		}
	}
	if r.err == nil && out.Values > out.Count {
		r.fail("%d values in %d events", out.Values, out.Count)
	}
	if r.err == nil && out.Values > 0 {
		out.decodeStats(r)
	}
	if lo, hi := out.sketchExtremes(); r.err == nil && out.Redacted > 0 && out.Values > 0 &&
		(math.Float64bits(lo) != math.Float64bits(out.Min) || math.Float64bits(hi) != math.Float64bits(out.Max)) {
		r.fail("min %v and max %v are not the sketch's %v and %v", out.Min, out.Max, lo, hi)
	}
	out.hll.decode(r)
	if r.err == nil && out.Count == 0 && out.Redacted == 0 && !out.hll.empty() {
		r.fail("distinct keys without events")
	}
	if err := r.finish(); err != nil {
		return err
	}
	out.Sum = out.sum.float64()
	a.Count, a.Values, a.Sum, a.Min, a.Max, a.Redacted = out.Count, out.Values, out.Sum, out.Min, out.Max, out.Redacted
	a.sum.set(&out.sum)
	a.zero, a.pos, a.neg, a.hll = out.zero, out.pos, out.neg, out.hll
	return nil
}

func (a *Agg) decodeStats(r *reader) {
	a.Min, a.Max = r.float("min"), r.float("max")
	switch {
	case r.err != nil:
		return
	case !finite(a.Min) || !finite(a.Max) || a.Min > a.Max:
		r.fail("min %v and max %v are not finite and ordered", a.Min, a.Max)
		return
	case math.Signbit(a.Min) && a.Min == 0 || math.Signbit(a.Max) && a.Max == 0:
		r.fail("negative zero min or max")
		return
	}
	a.sum.decode(r)
	if sign := a.sum.total().Sign(); r.err == nil && (sign < 0 && a.Min >= 0 || sign > 0 && a.Max <= 0) {
		r.fail("sum sign %d outside min %v and max %v", sign, a.Min, a.Max)
	}
	a.zero = r.uvarint("zero count")
	total := a.zero
	for _, st := range []*bucketStore{&a.pos, &a.neg} {
		n := st.decode(r)
		if r.err == nil && total+n < total {
			r.fail("sketch counts overflow")
		}
		total += n
	}
	if r.err != nil {
		return
	}
	if total != a.Values {
		r.fail("sketch holds %d values, want %d", total, a.Values)
		return
	}
	// Each sign class is non-empty exactly when [Min, Max] reaches it.
	if (len(a.neg.counts) > 0) != (a.Min < 0) || (len(a.pos.counts) > 0) != (a.Max > 0) ||
		(a.zero > 0) && (a.Min > 0 || a.Max < 0) || (a.Min == 0 || a.Max == 0) && a.zero == 0 {
		r.fail("sketch does not agree with min %v and max %v", a.Min, a.Max)
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
