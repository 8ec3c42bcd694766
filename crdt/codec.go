package crdt

import (
	"encoding/binary"
	"fmt"
	"math"
)

// formatV1 is the first byte of every encoding this package produces.
const formatV1 = 1

// reader decodes a byte slice strictly: canonical uvarints only, and the
// first error sticks (later reads return zero values).
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" (at byte %d)", append([]any{ErrMalformed}, append(args, r.off)...)...)
	}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail("truncated %s", what)
		return 0
	case n < 0:
		r.fail("%s overflows 64 bits", what)
		return 0
	case n > 1 && r.b[r.off+n-1] == 0:
		r.fail("non-minimal varint for %s", what)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.remaining() < 1 {
		r.fail("truncated %s", what)
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) bytes(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(r.remaining()) {
		r.fail("truncated %s", what)
		return nil
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out
}

func (r *reader) float(what string) float64 {
	b := r.bytes(8, what)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

func (r *reader) version() {
	if v := r.byte("format version"); r.err == nil && v != formatV1 {
		r.fail("unknown format version %d", v)
	}
}

// finish reports the first error, or trailing bytes.
func (r *reader) finish() error {
	if r.err == nil && r.remaining() != 0 {
		r.fail("%d trailing bytes", r.remaining())
	}
	return r.err
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}
