package syncproto

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Protocol versions. The version is the first byte of every frame, and the
// transport names it too (the libp2p protocol IDs /rumor/<mesh>/sync/1 and
// sync/2), so that two peers agree on it before the first frame: the
// dialer offers its versions newest first and the listener takes the first
// it speaks, which is the highest version both speak.
//
// Version 1 is the original protocol. Version 2 adds redacted events: a
// DELTA may carry the redacted form of an event (event.Redaction.Stub:
// header, the original's hash and Prev, and the signed redaction) where
// version 1 can only carry whole events; and HELLO carries the set of
// versions its sender speaks. A version 2 node still serves a version 1
// peer everything version 1 can express (see SessionConfig.Version).
const (
	Version1 = 1
	Version2 = 2
	// Version is the newest protocol version this package speaks.
	Version = Version2
	// MinVersion is the oldest.
	MinVersion = Version1
)

// Versions is a set of protocol versions: bit v is set for version v.
type Versions uint64

// SupportedVersions is every version this package speaks.
const SupportedVersions = Versions(1<<Version1 | 1<<Version2)

// Has reports whether v is in the set.
func (s Versions) Has(v uint8) bool { return v < 64 && s&(1<<v) != 0 }

// Highest returns the highest version in the set, 0 if it is empty.
func (s Versions) Highest() uint8 {
	if s == 0 {
		return 0
	}
	return uint8(63 - bits.LeadingZeros64(uint64(s)))
}

// Negotiate returns the highest version both sets hold: what a transport
// that knows both sides' versions agrees on. It reports false if there is
// none.
func Negotiate(ours, theirs Versions) (uint8, bool) {
	v := (ours & theirs).Highest()
	return v, v != 0
}

// UpTo returns the versions this package speaks up to and including max:
// what a node pinned to an older version offers.
func UpTo(max uint8) Versions {
	var s Versions
	for v := uint8(MinVersion); v <= max && v <= Version; v++ {
		s |= 1 << v
	}
	return s
}

// Hello opens a session: a digest of the sender's causal context, so that
// in-sync peers learn it in one round trip of two tiny frames. The
// session's protocol version is the frame's version byte; from version 2
// the HELLO also lists every version its sender speaks. The mesh and the
// peer identity are the transport's business.
type Hello struct {
	Schema uint32   // the sender's schema version
	Digest [16]byte // first 16 bytes of crdt.Context.Digest
	Events uint64   // number of dots in the sender's context
	// Versions are the protocol versions the sender speaks (version 2 and
	// later; a version 1 HELLO does not carry them and decodes with
	// Versions 0).
	Versions Versions
}

const helloLen = 4 + 16 + 8 // schema, digest, events

// Type returns TypeHello.
func (*Hello) Type() Type { return TypeHello }

// MarshalBinary returns the payload in the newest version: schema and
// events big-endian around the digest, then (version 2) the versions as a
// minimal uvarint.
func (h *Hello) MarshalBinary() ([]byte, error) { return h.appendPayload(nil, Version) }

func (h *Hello) appendPayload(b []byte, v uint8) ([]byte, error) {
	b = binary.BigEndian.AppendUint32(b, h.Schema)
	b = append(b, h.Digest[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Events)
	if v >= Version2 {
		if !h.Versions.Has(v) {
			return nil, fmt.Errorf("syncproto: a version %d HELLO must list version %d", v, v)
		}
		b = binary.AppendUvarint(b, uint64(h.Versions))
	}
	return b, nil
}

// UnmarshalBinary decodes a HELLO payload of the newest version.
func (h *Hello) UnmarshalBinary(b []byte) error { return h.decode(b, Version) }

// decode decodes a HELLO payload of version v.
func (h *Hello) decode(b []byte, v uint8) error {
	if len(b) < helloLen || (v < Version2 && len(b) != helloLen) {
		return fmt.Errorf("%w: HELLO payload of %d bytes, want %d", ErrMalformed, len(b), helloLen)
	}
	out := Hello{Schema: binary.BigEndian.Uint32(b), Events: binary.BigEndian.Uint64(b[20:28])}
	copy(out.Digest[:], b[4:20])
	if v >= Version2 {
		r := reader{b: b, off: helloLen, what: "HELLO"}
		out.Versions = Versions(r.uvarint("versions"))
		if err := r.finish(); err != nil {
			return err
		}
		if !out.Versions.Has(v) {
			return fmt.Errorf("%w: version %d HELLO does not list version %d", ErrMalformed, v, v)
		}
	}
	*h = out
	return nil
}
