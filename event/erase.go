package event

import (
	"bytes"
	"fmt"

	"github.com/ipfs/go-cid"
)

// Erased returns enc, the canonical encoding of a whole event, with the
// payload's bytes replaced by a blank JSON object of the same length ({,
// spaces, }) and each blob's multihash digest zeroed. The result has the
// same length and still decodes and validates, so a store can overwrite an
// event's bytes in place; it no longer hashes to the original (the
// redaction keeps that hash). It reports false when enc is already erased
// or is a redacted event's encoding, which hold nothing to erase.
func Erased(enc []byte) ([]byte, bool, error) {
	var e Event
	if err := e.UnmarshalBinary(enc); err != nil {
		return nil, false, err
	}
	if e.Redaction != nil {
		return nil, false, nil
	}
	blank := make([]byte, len(e.Payload))
	if len(blank) > 0 {
		for i := range blank {
			blank[i] = ' '
		}
		blank[0], blank[len(blank)-1] = '{', '}'
	}
	changed := !bytes.Equal(blank, e.Payload)
	e.Payload = blank
	for i, c := range e.Blobs {
		z, err := zeroDigest(c)
		if err != nil {
			return nil, false, err
		}
		changed = changed || z != c
		e.Blobs[i] = z
	}
	out := e.AppendBinary(make([]byte, 0, len(enc)))
	if len(out) != len(enc) {
		return nil, false, fmt.Errorf("%w: erased encoding of %d bytes, want %d", ErrInvalid, len(out), len(enc))
	}
	return out, changed, nil
}

// zeroDigest returns c with its multihash digest all zeros: the same
// length, version, codec and hash function, none of the content's hash.
func zeroDigest(c cid.Cid) (cid.Cid, error) {
	b := c.Bytes()
	n := c.Prefix().MhLength
	if n < 0 || n > len(b) {
		return cid.Undef, fmt.Errorf("%w: blob %s has a digest of %d bytes", ErrInvalid, c, n)
	}
	z := append([]byte(nil), b...)
	clear(z[len(z)-n:])
	out, err := cid.Cast(z)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: zeroed blob %s: %v", ErrInvalid, c, err)
	}
	return out, nil
}

// MatchesErased reports whether e is what Erased leaves of r's target: the
// same header, a blank payload ({, spaces, }) and blobs with all-zero
// digests. A store that rebuilds its index from a log whose redacted
// payloads were erased recognizes them with it.
func (r *Redaction) MatchesErased(e *Event) bool {
	if e.Redaction != nil || r.header() != e.header() {
		return false
	}
	p := e.Payload
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' || len(bytes.Trim(p[1:len(p)-1], " ")) != 0 {
		return false
	}
	for _, c := range e.Blobs {
		b := c.Bytes()
		n := c.Prefix().MhLength
		if n < 0 || n > len(b) || len(bytes.Trim(b[len(b)-n:], "\x00")) != 0 {
			return false
		}
	}
	return true
}
