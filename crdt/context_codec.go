package crdt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

// Context encoding, format version 1:
//
//	context = version:byte(1) n:uvarint origin*n     origins strictly ascending
//	origin  = len:uvarint bytes:len state             state holds at least one dot
//	state   = max:uvarint k:uvarint (gap:uvarint span:uvarint)*k
//
// Extra range i runs from prev+2+gap to from+span, where prev is max for the
// first range and the previous range's To after it. The encoding is
// therefore compacted by construction (ranges sorted, disjoint, not
// touching) and there is exactly one encoding per dot set.

// MarshalBinary returns the canonical encoding of c. It fails only if c is
// beyond the decoder's limits (MaxOrigins, MaxExtraRanges).
func (c *Context) MarshalBinary() ([]byte, error) {
	if n := c.size(); n > MaxOrigins {
		return nil, fmt.Errorf("crdt: context has %d origins, limit %d", n, MaxOrigins)
	}
	if c != nil {
		for _, st := range c.list {
			if n := len(st.extra); n > MaxExtraRanges {
				return nil, fmt.Errorf("crdt: origin %q has %d extra ranges, limit %d", st.origin, n, MaxExtraRanges)
			}
		}
	}
	return c.appendEncoding(nil), nil
}

func (c *Context) appendEncoding(b []byte) []byte {
	if c != nil { // size guess, to grow once: short varints for most numbers
		n := 8
		for _, st := range c.list {
			n += len(st.origin) + 8 + 6*len(st.extra)
		}
		b = slices.Grow(b, n)
	}
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, uint64(c.size()))
	if c == nil {
		return b
	}
	for _, st := range c.list {
		b = binary.AppendUvarint(b, uint64(len(st.origin)))
		b = append(b, st.origin...)
		b = appendState(b, st)
	}
	return b
}

func appendState(b []byte, st *originState) []byte {
	b = binary.AppendUvarint(b, st.max)
	b = binary.AppendUvarint(b, uint64(len(st.extra)))
	prev := st.max
	for _, s := range st.extra {
		b = binary.AppendUvarint(b, s.from-prev-2)
		b = binary.AppendUvarint(b, s.to-s.from)
		prev = s.to
	}
	return b
}

// Digest is the SHA-256 of c's canonical encoding: two contexts have equal
// digests iff they hold the same dots (barring a SHA-256 collision).
func (c *Context) Digest() [32]byte {
	return sha256.Sum256(c.appendEncoding(nil))
}

// UnmarshalBinary replaces c with the decoded context. It validates the
// whole input (limits, canonical form, sorted origins, non-empty states, no
// trailing bytes); on error it wraps ErrMalformed and leaves c unchanged.
// It does not retain b.
func (c *Context) UnmarshalBinary(b []byte) error {
	r := &reader{b: b}
	r.version()
	n := r.uvarint("origin count")
	switch {
	case r.err != nil:
	case n > MaxOrigins:
		r.fail("%d origins, limit %d", n, MaxOrigins)
	case n > uint64(r.remaining())/4: // an origin takes at least 4 bytes
		r.fail("%d origins cannot fit in %d bytes", n, r.remaining())
	}
	if r.err != nil {
		return r.err
	}
	m := make(map[string]*originState, n)
	list := make([]*originState, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		origin := readOrigin(r)
		if r.err == nil && i > 0 && origin <= list[i-1].origin {
			r.fail("origin %d not in ascending order", i)
		}
		st := decodeState(r)
		if r.err == nil && st.empty() {
			r.fail("origin %q holds no dots", origin)
		}
		if r.err == nil {
			st.origin = origin
			m[origin] = st
			list = append(list, st)
		}
	}
	if err := r.finish(); err != nil {
		return err
	}
	c.m, c.list, c.hot = m, list, nil
	return nil
}

func readOrigin(r *reader) string {
	l := r.uvarint("origin length")
	if r.err == nil && (l == 0 || l > MaxOriginLen) {
		r.fail("origin length %d outside [1, %d]", l, MaxOriginLen)
	}
	return string(r.bytes(l, "origin"))
}

func decodeState(r *reader) *originState {
	st := &originState{max: r.uvarint("max")}
	k := r.uvarint("extra range count")
	switch {
	case r.err != nil:
		return st
	case k > MaxExtraRanges:
		r.fail("%d extra ranges, limit %d", k, MaxExtraRanges)
		return st
	case k > uint64(r.remaining())/2:
		r.fail("%d extra ranges cannot fit in %d bytes", k, r.remaining())
		return st
	}
	if k > 0 {
		st.extra = make([]span, 0, k)
	}
	prev := st.max
	for i := uint64(0); i < k && r.err == nil; i++ {
		gap := r.uvarint("range gap")
		length := r.uvarint("range length")
		if r.err != nil {
			break
		}
		if prev > ^uint64(0)-2 || gap > ^uint64(0)-2-prev {
			r.fail("range %d starts beyond 2^64-1", i)
			break
		}
		from := prev + 2 + gap
		if length > ^uint64(0)-from {
			r.fail("range %d ends beyond 2^64-1", i)
			break
		}
		st.extra = append(st.extra, span{from, from + length})
		prev = from + length
	}
	return st
}

// EncodeOrigin returns the persisted form of one origin's state (its
// contiguous maximum and extra ranges): a format version byte followed by
// the state. An origin with no dots encodes as the empty state.
func (c *Context) EncodeOrigin(origin string) []byte {
	st := c.state(origin)
	if st == nil {
		st = &originState{}
	}
	return appendState([]byte{formatV1}, st)
}

// DecodeOrigin replaces origin's state with the one encoded in b (as made
// by EncodeOrigin). It validates origin and b fully; on error it wraps
// ErrMalformed and leaves c unchanged. An empty state removes the origin.
// It does not retain b.
func (c *Context) DecodeOrigin(origin string, b []byte) error {
	if !validOrigin(origin) {
		return fmt.Errorf("%w: origin length %d outside [1, %d]", ErrMalformed, len(origin), MaxOriginLen)
	}
	r := &reader{b: b}
	r.version()
	st := decodeState(r)
	if err := r.finish(); err != nil {
		return err
	}
	if st.empty() {
		c.removeOrigin(origin)
		return nil
	}
	dst := c.stateFor(origin)
	dst.max, dst.extra = st.max, st.extra
	return nil
}
