package syncproto

import (
	"encoding/binary"
	"fmt"
)

// reader decodes a payload strictly: canonical (minimal) uvarints only, and
// the first error sticks, later reads returning zero values.
type reader struct {
	b    []byte
	off  int
	err  error
	what string // the message being decoded, for errors
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s (at byte %d)", ErrMalformed, r.what, fmt.Sprintf(format, args...), r.off)
	}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail("truncated %s", field)
		return 0
	case n < 0:
		r.fail("%s overflows 64 bits", field)
		return 0
	case n > 1 && r.b[r.off+n-1] == 0:
		r.fail("non-minimal varint for %s", field)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) byte(field string) byte {
	if b := r.bytes(1, field); b != nil {
		return b[0]
	}
	return 0
}

// bytes returns the next n bytes (aliasing the input), or nil on error.
func (r *reader) bytes(n uint64, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(r.remaining()) {
		r.fail("truncated %s", field)
		return nil
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out
}

// finish reports the first error, or trailing bytes.
func (r *reader) finish() error {
	if r.err == nil && r.remaining() != 0 {
		r.fail("%d trailing bytes", r.remaining())
	}
	return r.err
}

// uvarintLen is the length of v's uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
