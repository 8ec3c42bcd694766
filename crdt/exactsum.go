package crdt

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
)

// sumScale is the exponent of the smallest float64 step, 2^-1074: every
// finite float64 is an integer multiple of it.
const sumScale = -1074

// maxSumBits bounds the magnitude of an exact sum: 2^64 values below 2^1024
// each, scaled by 2^1074, take at most 2162 bits.
const maxSumBits = 1024 + 1074 + 64

// exactSum is a sum of finite float64s kept exactly, as an integer count of
// 2^-1074 steps. Integer addition is associative, so the sum does not
// depend on the order values are added or partials merged.
//
// Sums of whole numbers, the common case, stay in small (in units of 1)
// and cost an int64 addition; anything else lives in v. The form is
// canonical: either v is zero and small holds the value, or small is zero
// and v holds a value small cannot.
type exactSum struct {
	small int64
	v     big.Int
	tmp   big.Int // scratch, not part of the value
}

// maxSmallValue bounds the whole numbers added on the fast path.
const maxSmallValue = 1 << 53

// add adds a finite x.
func (s *exactSum) add(x float64) {
	if s.v.Sign() == 0 && x == math.Trunc(x) && math.Abs(x) <= maxSmallValue {
		if n := int64(x); (n >= 0 && s.small <= math.MaxInt64-n) || (n < 0 && s.small >= math.MinInt64-n) {
			s.small += n
			return
		}
	}
	s.spill()
	s.addBig(x)
	s.canonicalize()
}

// spill moves small into v.
func (s *exactSum) spill() {
	if s.small == 0 {
		return
	}
	s.tmp.SetInt64(s.small)
	s.tmp.Lsh(&s.tmp, -sumScale)
	s.v.Add(&s.v, &s.tmp)
	s.small = 0
}

// canonicalize moves v into small when it is a whole number that fits.
func (s *exactSum) canonicalize() {
	if s.v.Sign() == 0 || s.v.TrailingZeroBits() < -sumScale {
		return
	}
	s.tmp.Rsh(&s.v, -sumScale)
	if s.tmp.IsInt64() {
		s.small = s.tmp.Int64()
		s.v.SetInt64(0)
	}
}

// total returns the whole value as a count of 2^-1074 steps.
func (s *exactSum) total() *big.Int {
	if s.small == 0 {
		return &s.v
	}
	t := new(big.Int).SetInt64(s.small)
	return t.Lsh(t, -sumScale).Add(t, &s.v)
}

// addBig adds a finite x into v.
func (s *exactSum) addBig(x float64) {
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

func (s *exactSum) merge(o *exactSum) {
	if s.v.Sign() == 0 && o.v.Sign() == 0 {
		if n := o.small; (n >= 0 && s.small <= math.MaxInt64-n) || (n < 0 && s.small >= math.MinInt64-n) {
			s.small += n
			return
		}
	}
	s.spill()
	s.v.Add(&s.v, o.total())
	s.canonicalize()
}

func (s *exactSum) set(o *exactSum) { s.small = o.small; s.v.Set(&o.v) }

func (s *exactSum) equal(o *exactSum) bool { return s.small == o.small && s.v.Cmp(&o.v) == 0 }

// float64 is the sum rounded to nearest even, saturated to the finite
// float64 range.
func (s *exactSum) float64() float64 {
	if s.v.Sign() == 0 {
		return float64(s.small) // Go rounds int64 to float64 to nearest even
	}
	return bigFloat64(&s.v)
}

// bigFloat64 rounds a count of 2^-1074 steps to float64, nearest even,
// saturated to the finite range. It reads the words in place.
func bigFloat64(v *big.Int) float64 {
	n := uint(v.BitLen())
	ws := v.Bits()
	var x float64
	if n <= 53 { // exact, as a subnormal or small normal
		x = math.Ldexp(float64(wordsAt(ws, 0)), sumScale)
	} else {
		lo := n - 64
		if n < 64 {
			lo = 0
		}
		top := wordsAt(ws, lo) << (64 - (n - lo)) // the 64 highest bits, left aligned
		sticky := v.TrailingZeroBits() < lo
		m, rem := top>>11, top&0x7ff
		if rem > 0x400 || rem == 0x400 && (sticky || m&1 == 1) {
			m++
		}
		x = math.Ldexp(float64(m), int(n)-53+sumScale) // m <= 2^53: exact unless it overflows
	}
	if math.IsInf(x, 0) {
		x = math.MaxFloat64
	}
	if v.Sign() < 0 {
		return -x
	}
	return x
}

// wordsAt returns the 64 bits of ws (a little-endian magnitude) starting
// at bit lo, whatever the platform's word size.
func wordsAt(ws []big.Word, lo uint) uint64 {
	var out uint64
	for k := uint(0); k < 64; {
		i, off := (lo+k)/bits.UintSize, (lo+k)%bits.UintSize
		if i >= uint(len(ws)) {
			break
		}
		out |= uint64(ws[i]) >> off << k
		k += bits.UintSize - off
	}
	return out
}

// quo is the sum divided by n (n >= 1), rounded to float64 and saturated
// to the finite range. Only read paths use it, so it may allocate.
func (s *exactSum) quo(n uint64) float64 {
	if n == 1 || (s.v.Sign() == 0 && s.small == 0) {
		return s.float64()
	}
	var f, d big.Float
	f.SetInt(s.total())
	f.SetPrec(max(f.Prec(), 64) + 64)
	f.Quo(&f, d.SetUint64(n))
	f.SetMantExp(&f, sumScale)
	x, _ := f.Float64()
	if math.IsInf(x, 0) {
		return math.Copysign(math.MaxFloat64, x)
	}
	return x
}

// appendTo encodes the sum: a sign byte (0 zero, 1 positive, 2 negative),
// then for a non-zero sum |sum| = odd << shift as the shift and the odd
// part's big-endian bytes with their length. Sums of everyday values have
// a long run of trailing zero bits, so this is a few bytes.
func (s *exactSum) appendTo(b []byte) []byte {
	v := s.total()
	switch v.Sign() {
	case 0:
		return append(b, 0)
	case 1:
		b = append(b, 1)
	default:
		b = append(b, 2)
	}
	shift := v.TrailingZeroBits()
	var odd big.Int
	odd.Abs(v)
	odd.Rsh(&odd, shift)
	mag := odd.Bytes()
	b = binary.AppendUvarint(b, uint64(shift))
	b = binary.AppendUvarint(b, uint64(len(mag)))
	return append(b, mag...)
}

func (s *exactSum) decode(r *reader) {
	sign := r.byte("sum sign")
	if r.err != nil || sign == 0 {
		s.v.SetInt64(0)
		s.small = 0
		return
	}
	if sign > 2 {
		r.fail("sum sign %d", sign)
		return
	}
	shift := r.uvarint("sum shift")
	n := r.uvarint("sum length")
	if r.err == nil && (n == 0 || n > maxSumBits/8+1 || shift > maxSumBits) {
		r.fail("sum of %d bytes shifted by %d is out of range", n, shift)
	}
	mag := r.bytes(n, "sum magnitude")
	switch {
	case r.err != nil:
		return
	case mag[0] == 0 || mag[n-1]&1 == 0:
		r.fail("sum magnitude is not minimal and odd")
		return
	}
	s.v.SetBytes(mag)
	if shift+uint64(s.v.BitLen()) > maxSumBits {
		r.fail("sum beyond %d bits", maxSumBits)
		return
	}
	s.v.Lsh(&s.v, uint(shift))
	if sign == 2 {
		s.v.Neg(&s.v)
	}
	s.small = 0
	s.canonicalize()
}
