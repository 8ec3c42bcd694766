package crdt

import (
	"encoding/binary"
	"math"
	"slices"
)

// The quantile sketch is DDSketch-style: a value v > 0 goes to bucket
// ceil(51 * L(v)) where L(v) = e + (m - 1) for v = m * 2^e, m in [1, 2), is a
// piecewise-linear log2. A bucket then spans a ratio of at most 1 + 1/51,
// so its representative value is within 0.97% of every value in it: 1%
// relative accuracy with margin. Only exactly rounded operations are used
// (Frexp, one add, one multiply, Ceil), so every platform buckets alike.
// Negative values go to a second store by magnitude; zeros are counted.
const (
	sketchBucketsPerBinade = 51
	// sketchMaxBuckets bounds the index span of a store. Beyond it the
	// lowest buckets (smallest magnitudes) fold into the lowest kept one, a
	// deterministic rule that keeps Merge associative; 2048 buckets cover a
	// dynamic range of about 10^12 at full accuracy.
	sketchMaxBuckets = 2048
	sketchMinIndex   = -1074 * sketchBucketsPerBinade // the smallest subnormal
	sketchMaxIndex   = 1024 * sketchBucketsPerBinade  // above the largest float64
)

// sketchIndex is the bucket of a finite v > 0.
func sketchIndex(v float64) int32 {
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	l := float64(exp-1) + (frac*2 - 1)
	return int32(math.Ceil(float64(l * sketchBucketsPerBinade)))
}

// sketchLog2Inv inverts the piecewise-linear log2.
func sketchLog2Inv(l float64) float64 {
	e := math.Floor(l)
	return math.Ldexp(1+(l-e), int(e))
}

// sketchValue is the representative of bucket i: the value whose relative
// distance to both bucket bounds is equal.
func sketchValue(i int32) float64 {
	lo := sketchLog2Inv(float64(i-1) / sketchBucketsPerBinade)
	hi := sketchLog2Inv(float64(i) / sketchBucketsPerBinade)
	if math.IsInf(hi, 0) {
		return lo
	}
	return lo * (hi / (lo/2 + hi/2))
}

// bucketStore holds counts for a contiguous index span. Invariant: empty,
// or counts[0] and counts[len-1] are non-zero and len <= sketchMaxBuckets.
type bucketStore struct {
	offset int32 // index of counts[0]
	counts []uint64
}

func (s *bucketStore) hi() int32 { return s.offset + int32(len(s.counts)) - 1 }

func (s *bucketStore) add(idx int32, n uint64) {
	if n == 0 {
		return
	}
	if len(s.counts) == 0 {
		s.offset, s.counts = idx, []uint64{n}
		return
	}
	hi := max(s.hi(), idx)
	lo := max(min(s.offset, idx), hi-sketchMaxBuckets+1)
	s.reshape(lo, hi)
	s.counts[max(idx, lo)-lo] += n
}

func (s *bucketStore) merge(o *bucketStore) {
	if len(o.counts) == 0 {
		return
	}
	if len(s.counts) == 0 {
		s.offset, s.counts = o.offset, slices.Clone(o.counts)
		return
	}
	hi := max(s.hi(), o.hi())
	lo := max(min(s.offset, o.offset), hi-sketchMaxBuckets+1)
	s.reshape(lo, hi)
	for i, c := range o.counts {
		s.counts[max(o.offset+int32(i), lo)-lo] += c
	}
}

// reshape makes the store span [lo, hi], where hi >= s.hi() and
// hi-lo < sketchMaxBuckets, folding every count below lo into lo.
func (s *bucketStore) reshape(lo, hi int32) {
	if cur := s.hi(); hi > cur {
		s.counts = append(s.counts, make([]uint64, hi-cur)...)
	}
	switch {
	case lo > s.offset:
		k := int(lo - s.offset)
		var folded uint64
		for _, c := range s.counts[:k] {
			folded += c
		}
		s.counts = append(s.counts[:0], s.counts[k:]...)
		s.counts[0] += folded
	case lo < s.offset:
		grown := make([]uint64, int(s.offset-lo)+len(s.counts))
		copy(grown[s.offset-lo:], s.counts)
		s.counts = grown
	}
	s.offset = lo
}

func (s *bucketStore) total() uint64 {
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *bucketStore) equal(o *bucketStore) bool {
	return len(s.counts) == len(o.counts) && (len(s.counts) == 0 || s.offset == o.offset) &&
		slices.Equal(s.counts, o.counts)
}

func (s *bucketStore) clone() bucketStore {
	return bucketStore{offset: s.offset, counts: slices.Clone(s.counts)}
}

// appendTo encodes the non-empty buckets: count, then the first index
// (offset from sketchMinIndex) or the gap to the previous one, and the
// bucket's count.
func (s *bucketStore) appendTo(b []byte) []byte {
	n := 0
	for _, c := range s.counts {
		if c != 0 {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	prev, first := int32(0), true
	for i, c := range s.counts {
		if c == 0 {
			continue
		}
		idx := s.offset + int32(i)
		if first {
			first = false
			b = binary.AppendUvarint(b, uint64(idx-sketchMinIndex))
		} else {
			b = binary.AppendUvarint(b, uint64(idx-prev-1))
		}
		b = binary.AppendUvarint(b, c)
		prev = idx
	}
	return b
}

// decode reads a store and returns its total count.
func (s *bucketStore) decode(r *reader) uint64 {
	n := r.uvarint("bucket count")
	if r.err == nil && n > sketchMaxBuckets {
		r.fail("%d buckets, limit %d", n, sketchMaxBuckets)
	}
	var total uint64
	var idx int64
	for i := uint64(0); i < n && r.err == nil; i++ {
		d := r.uvarint("bucket index")
		c := r.uvarint("bucket count")
		switch {
		case r.err != nil:
			return 0
		case c == 0:
			r.fail("empty bucket listed")
		case i == 0:
			idx = sketchMinIndex + int64(min(d, 1<<32))
			s.offset, s.counts = int32(min(idx, sketchMaxIndex)), make([]uint64, 0, n)
		default:
			idx += 1 + int64(min(d, 1<<32))
		}
		if r.err != nil {
			return 0
		}
		if idx > sketchMaxIndex || idx-int64(s.offset) >= sketchMaxBuckets {
			r.fail("bucket index %d outside the sketch's span", idx)
			return 0
		}
		if total+c < total {
			r.fail("bucket counts overflow")
			return 0
		}
		total += c
		for int64(s.offset)+int64(len(s.counts)) < idx {
			s.counts = append(s.counts, 0)
		}
		s.counts = append(s.counts, c)
	}
	return total
}
