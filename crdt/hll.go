package crdt

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// The distinct-count sketch is a HyperLogLog of precision 12 (4096 6-bit
// registers, standard error 1.04/sqrt(4096) = 1.6%). Small cardinalities
// use a sparse form at precision 25, nearly exact, as in HyperLogLog++; it
// turns dense once it holds more than hllSparseMax entries. Both forms are
// functions of the set of hashes added, so the representation is canonical
// and Merge (register maximum) is commutative, associative and idempotent.
const (
	hllP         = 12
	hllM         = 1 << hllP
	hllMaxRho    = 64 - hllP + 1 // 53
	hllSparseP   = 25
	hllSparseRho = 64 - hllSparseP + 1 // 40
	hllSparseMax = 1024                // sparse entries; 4 bytes each, as big as the dense form
	hllAlphaInf  = 0.7213475204444817  // 1 / (2 ln 2)
)

// hashKey is FNV-1a 64 followed by the murmur3 64-bit finaliser, so every
// input bit affects every output bit. Fixed forever: replicas must agree.
func hashKey(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

type hll struct {
	sparse []uint32 // sorted by index; entry = index<<6 | rho, at precision 25
	dense  []uint8  // hllM registers, or nil while sparse
}

func (h *hll) empty() bool { return len(h.sparse) == 0 && h.dense == nil }

func (h *hll) add(hash uint64) {
	if h.dense != nil {
		h.setDense(uint32(hash>>(64-hllP)), uint8(min(bits.LeadingZeros64(hash<<hllP)+1, hllMaxRho)))
		return
	}
	idx := uint32(hash >> (64 - hllSparseP))
	rho := uint32(min(bits.LeadingZeros64(hash<<hllSparseP)+1, hllSparseRho))
	i, found := slices.BinarySearchFunc(h.sparse, idx, func(e, t uint32) int { return int(e>>6) - int(t) })
	switch {
	case !found:
		h.sparse = slices.Insert(h.sparse, i, idx<<6|rho)
	case rho > h.sparse[i]&63:
		h.sparse[i] = idx<<6 | rho
	}
	if len(h.sparse) > hllSparseMax {
		h.toDense()
	}
}

func (h *hll) setDense(idx uint32, rho uint8) {
	if rho > h.dense[idx] {
		h.dense[idx] = rho
	}
}

// denseOf maps a precision-25 sparse entry to a precision-12 register.
func denseOf(e uint32) (idx uint32, rho uint8) {
	idx25, rho25 := e>>6, e&63
	low := idx25 & (1<<(hllSparseP-hllP) - 1) // the 13 bits after the register index
	if low != 0 {
		return idx25 >> (hllSparseP - hllP), uint8(hllSparseP - hllP - bits.Len32(low) + 1)
	}
	return idx25 >> (hllSparseP - hllP), uint8(hllSparseP - hllP + rho25)
}

func (h *hll) toDense() {
	h.dense = make([]uint8, hllM)
	for _, e := range h.sparse {
		h.setDense(denseOf(e))
	}
	h.sparse = nil
}

func (h *hll) merge(o *hll) {
	switch {
	case o.empty():
	case h.dense == nil && o.dense == nil:
		h.sparse = mergeSparse(h.sparse, o.sparse)
		if len(h.sparse) > hllSparseMax {
			h.toDense()
		}
	default:
		if h.dense == nil {
			h.toDense()
		}
		for i, r := range o.dense {
			h.setDense(uint32(i), r)
		}
		for _, e := range o.sparse {
			h.setDense(denseOf(e))
		}
	}
}

func mergeSparse(a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch ai, bj := a[i]>>6, b[j]>>6; {
		case ai < bj:
			out = append(out, a[i])
			i++
		case bj < ai:
			out = append(out, b[j])
			j++
		default:
			out = append(out, max(a[i], b[j])) // same index: larger rho
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func (h *hll) equal(o *hll) bool {
	return slices.Equal(h.sparse, o.sparse) && slices.Equal(h.dense, o.dense)
}

func (h *hll) clone() hll { return hll{sparse: slices.Clone(h.sparse), dense: slices.Clone(h.dense)} }

// estimate is the distinct count: linear counting over the 2^25 sparse
// registers while sparse, Ertl's improved estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017) once dense. Both
// use only exactly rounded arithmetic.
func (h *hll) estimate() uint64 {
	if h.dense == nil {
		v := float64(len(h.sparse))
		n := v + float64(v*v)/(2<<hllSparseP) // -m ln(1 - v/m), to second order
		return uint64(math.Round(n))
	}
	var c [hllMaxRho + 1]float64
	for _, r := range h.dense {
		c[r]++
	}
	const m = float64(hllM)
	z := m * hllTau(1-c[hllMaxRho]/m)
	for k := hllMaxRho - 1; k >= 1; k-- {
		z = 0.5 * (z + c[k])
	}
	z += float64(m * hllSigma(c[0]/m))
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if z == prev {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if z == prev {
			return z / 3
		}
	}
}

// appendTo encodes the sketch: mode 0 (empty), 1 (sparse: count, then per
// entry the index or the gap to the previous one, and rho) or 2 (dense: the
// 4096 registers, one byte each).
func (h *hll) appendTo(b []byte) []byte {
	switch {
	case h.dense != nil:
		return append(append(b, 2), h.dense...)
	case len(h.sparse) == 0:
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(h.sparse)))
	prev := uint32(0)
	for i, e := range h.sparse {
		if i == 0 {
			b = binary.AppendUvarint(b, uint64(e>>6))
		} else {
			b = binary.AppendUvarint(b, uint64(e>>6-prev-1))
		}
		b = append(b, byte(e&63))
		prev = e >> 6
	}
	return b
}

func (h *hll) decode(r *reader) {
	switch mode := r.byte("hll mode"); {
	case r.err != nil || mode == 0:
	case mode == 1:
		h.decodeSparse(r)
	case mode == 2:
		regs := r.bytes(hllM, "hll registers")
		if r.err != nil {
			return
		}
		nonzero := false
		for i, v := range regs {
			if v > hllMaxRho {
				r.fail("hll register %d holds %d, limit %d", i, v, hllMaxRho)
				return
			}
			nonzero = nonzero || v != 0
		}
		if !nonzero {
			r.fail("dense hll with no registers set")
			return
		}
		h.dense = slices.Clone(regs)
	default:
		r.fail("unknown hll mode %d", mode)
	}
}

func (h *hll) decodeSparse(r *reader) {
	n := r.uvarint("hll entry count")
	if r.err == nil && (n == 0 || n > hllSparseMax) {
		r.fail("%d sparse hll entries outside [1, %d]", n, hllSparseMax)
	}
	if r.err != nil {
		return
	}
	h.sparse = make([]uint32, 0, n)
	var idx uint64
	for i := uint64(0); i < n && r.err == nil; i++ {
		d := r.uvarint("hll index")
		rho := r.byte("hll rho")
		if i == 0 {
			idx = d
		} else {
			idx += 1 + min(d, 1<<hllSparseP)
		}
		switch {
		case r.err != nil:
		case idx >= 1<<hllSparseP:
			r.fail("hll index %d beyond 2^%d", idx, hllSparseP)
		case rho == 0 || rho > hllSparseRho:
			r.fail("hll rho %d outside [1, %d]", rho, hllSparseRho)
		default:
			h.sparse = append(h.sparse, uint32(idx)<<6|uint32(rho))
		}
	}
}
