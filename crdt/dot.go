package crdt

import (
	"errors"
	"fmt"
)

// Limits enforced by the decoders. Encoders refuse states beyond them, so
// every encoding this package produces can be decoded again.
const (
	// MaxOrigins is the most origins a Context encoding may hold.
	MaxOrigins = 1 << 20
	// MaxOriginLen is the longest origin id, in bytes.
	MaxOriginLen = 256
	// MaxExtraRanges is the most ranges beyond the contiguous maximum that
	// one origin may hold in an encoding.
	MaxExtraRanges = 1 << 16
)

// ErrMalformed is wrapped by every decoding error of this package.
var ErrMalformed = errors.New("crdt: malformed encoding")

// ErrInvalid is wrapped by errors about arguments that can never be valid,
// such as an unknown window name.
var ErrInvalid = errors.New("crdt: invalid argument")

// Dot identifies one event: its origin device and its per-origin sequence
// number (from 1).
type Dot struct {
	Origin string
	Seq    uint64
}

// Valid reports whether d can be held by a Context: a non-empty origin of at
// most MaxOriginLen bytes and a seq of at least 1.
func (d Dot) Valid() bool { return validOrigin(d.Origin) && d.Seq >= 1 }

// String formats d as origin:seq.
func (d Dot) String() string { return fmt.Sprintf("%s:%d", d.Origin, d.Seq) }

// Less orders dots by origin, then seq.
func (d Dot) Less(o Dot) bool {
	if d.Origin != o.Origin {
		return d.Origin < o.Origin
	}
	return d.Seq < o.Seq
}

// Range is an inclusive range of seqs of one origin.
type Range struct {
	Origin   string
	From, To uint64
}

// Valid reports whether r names at least one valid dot: a valid origin and
// 1 <= From <= To.
func (r Range) Valid() bool { return validOrigin(r.Origin) && r.From >= 1 && r.From <= r.To }

// Len is the number of seqs in r, 0 if From is 0 or From > To.
func (r Range) Len() uint64 {
	if r.From == 0 || r.From > r.To {
		return 0
	}
	return r.To - r.From + 1
}

// String formats r as origin:from-to.
func (r Range) String() string { return fmt.Sprintf("%s:%d-%d", r.Origin, r.From, r.To) }

func validOrigin(o string) bool { return len(o) >= 1 && len(o) <= MaxOriginLen }
