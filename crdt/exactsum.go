package crdt

import (
	"math"
	"math/big"
)

// sumScale is the exponent of the smallest float64 step, 2^-1074: every
// finite float64 is an integer multiple of it.
const sumScale = -1074

// maxSumBytes bounds the encoded magnitude of an exact sum: 2^64 values of
// at most 2^1024 each, scaled by 2^1074, take at most 2162 bits.
const maxSumBytes = 272

// exactSum is a sum of finite float64s kept exactly, as an integer count of
// 2^-1074 steps. Integer addition is associative, so the sum does not
// depend on the order values are added or partials merged.
type exactSum struct {
	v   big.Int
	tmp big.Int // scratch, not part of the value
}

// add adds a finite x.
func (s *exactSum) add(x float64) {
	bits := math.Float64bits(x)
	exp := uint((bits >> 52) & 0x7ff)
	mant := bits & (1<<52 - 1)
	if exp != 0 { // normal: (2^52 + mant) * 2^(exp-1075) = that << (exp-1) steps
		mant |= 1 << 52
		exp--
	}
	if mant == 0 {
		return
	}
	s.tmp.SetUint64(mant)
	s.tmp.Lsh(&s.tmp, exp)
	if bits>>63 != 0 {
		s.tmp.Neg(&s.tmp)
	}
	s.v.Add(&s.v, &s.tmp)
}

func (s *exactSum) merge(o *exactSum) { s.v.Add(&s.v, &o.v) }

func (s *exactSum) set(o *exactSum) { s.v.Set(&o.v) }

func (s *exactSum) equal(o *exactSum) bool { return s.v.Cmp(&o.v) == 0 }

// float64 is the sum rounded to nearest even, saturated to the finite
// float64 range.
func (s *exactSum) float64() float64 {
	return s.quo(1)
}

// quo is the sum divided by n (n >= 1), rounded to nearest even and
// saturated to the finite float64 range.
func (s *exactSum) quo(n uint64) float64 {
	if s.v.Sign() == 0 {
		return 0
	}
	var f, d big.Float
	f.SetInt(&s.v)
	if n > 1 {
		f.SetPrec(max(f.Prec(), 64) + 64)
		f.Quo(&f, d.SetUint64(n))
	}
	f.SetMantExp(&f, sumScale)
	x, _ := f.Float64()
	if math.IsInf(x, 0) {
		return math.Copysign(math.MaxFloat64, x)
	}
	return x
}

// appendTo encodes the sum: a sign byte (0 zero, 1 positive, 2 negative),
// then for a non-zero sum the big-endian magnitude with its length.
func (s *exactSum) appendTo(b []byte) []byte {
	switch s.v.Sign() {
	case 0:
		return append(b, 0)
	case 1:
		b = append(b, 1)
	default:
		b = append(b, 2)
	}
	mag := s.v.Bytes()
	b = append(b, byte(len(mag)>>8), byte(len(mag)))
	return append(b, mag...)
}

func (s *exactSum) decode(r *reader) {
	sign := r.byte("sum sign")
	if r.err != nil || sign == 0 {
		s.v.SetInt64(0)
		return
	}
	if sign > 2 {
		r.fail("sum sign %d", sign)
		return
	}
	hdr := r.bytes(2, "sum length")
	if r.err != nil {
		return
	}
	n := uint64(hdr[0])<<8 | uint64(hdr[1])
	if n == 0 || n > maxSumBytes {
		r.fail("sum magnitude of %d bytes outside [1, %d]", n, maxSumBytes)
		return
	}
	mag := r.bytes(n, "sum magnitude")
	if r.err != nil {
		return
	}
	if mag[0] == 0 {
		r.fail("sum magnitude has a leading zero byte")
		return
	}
	s.v.SetBytes(mag)
	if sign == 2 {
		s.v.Neg(&s.v)
	}
}
