package crdt

import (
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// TestPropExactSumFloat64 checks the word-level rounding against
// math/big's correctly rounded conversion.
func TestPropExactSumFloat64(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s exactSum
		for _, v := range rapid.SliceOfN(genValue(), 0, 10).Draw(t, "values") {
			if finite(v) {
				s.add(v)
			}
		}
		// Also hit halfway cases: a random integer scaled anywhere.
		if rapid.Bool().Draw(t, "raw") {
			s.small = 0
			s.v.SetUint64(rapid.Uint64().Draw(t, "mant"))
			s.v.Lsh(&s.v, rapid.UintRange(0, 2100).Draw(t, "shift"))
			if rapid.Bool().Draw(t, "neg") {
				s.v.Neg(&s.v)
			}
		}
		var f big.Float
		f.SetInt(s.total())
		f.SetMantExp(&f, sumScale)
		want, _ := f.Float64()
		if math.IsInf(want, 0) {
			want = math.Copysign(math.MaxFloat64, want)
		}
		if got := s.float64(); math.Float64bits(got) != math.Float64bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("float64() = %v, want %v (bits %d)", got, want, s.v.BitLen())
		}
	})
}
