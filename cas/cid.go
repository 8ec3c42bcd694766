package cas

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// ChunkSize is the largest raw block, and the size of every chunk of a blob
// larger than that except the last.
const ChunkSize = 1 << 20

// MaxLinks is the largest number of chunks a root block may list.
const MaxLinks = 1 << 14

// MaxSize is the largest blob the store accepts (16 GiB).
const MaxSize = MaxLinks * ChunkSize

// MaxRootSize bounds the encoded size of a root block (671,775 bytes: 41
// bytes per link plus at most 31 of header).
const MaxRootSize = rootHeaderMax + MaxLinks*linkLen

// Sentinel errors. Errors of this package wrap the one that applies (badger's
// own I/O errors are passed through wrapped); test with errors.Is.
var (
	// ErrNotFound reports a blob or block that is not stored here.
	ErrNotFound = errors.New("cas: not found")
	// ErrCorrupt reports data that does not hash to its CID or a root block
	// that does not decode.
	ErrCorrupt = errors.New("cas: corrupt block")
	// ErrTooLarge reports a blob over the caller's limit or MaxSize, or a
	// block over its size limit.
	ErrTooLarge = errors.New("cas: too large")
	// ErrInvalidCID reports a CID this store cannot hold: not CIDv1, not
	// sha2-256, or a codec other than raw and dag-cbor.
	ErrInvalidCID = errors.New("cas: invalid CID")
)

const (
	codecRaw  = cid.Raw     // 0x55, raw leaves and chunks
	codecRoot = cid.DagCBOR // 0x71, root blocks
	cidLen    = 36          // binary CIDv1: version, codec, hash code, digest length, digest
	maxCIDStr = 128         // longest CID string ParseCID looks at
)

// kind tells raw blocks from root blocks.
type kind uint8

const (
	kindRaw kind = iota + 1
	kindRoot
)

// Sum returns the CID of data as a raw leaf: CIDv1, raw codec, sha2-256. For
// data of at most ChunkSize bytes that is the CID Put returns.
func Sum(data []byte) cid.Cid {
	return makeCID(codecRaw, sha256.Sum256(data))
}

// sumRoot returns the CID of an encoded root block.
func sumRoot(block []byte) cid.Cid {
	return makeCID(codecRoot, sha256.Sum256(block))
}

func makeCID(codec byte, digest [sha256.Size]byte) cid.Cid {
	var b [cidLen]byte
	b[0], b[1], b[2], b[3] = 1, codec, mh.SHA2_256, sha256.Size
	copy(b[4:], digest[:])
	c, err := cid.Cast(b[:])
	if err != nil {
		panic("cas: building a CID: " + err.Error()) // broken invariant: b is well formed
	}
	return c
}

// kindOf validates c and reports whether it names a raw or a root block.
func kindOf(c cid.Cid) (kind, error) {
	k := c.KeyString()
	if len(k) == cidLen && k[0] == 1 && k[2] == mh.SHA2_256 && k[3] == sha256.Size {
		switch k[1] {
		case codecRaw:
			return kindRaw, nil
		case codecRoot:
			return kindRoot, nil
		}
	}
	return 0, explainCID(c)
}

// explainCID says why c is not acceptable.
func explainCID(c cid.Cid) error {
	if !c.Defined() {
		return fmt.Errorf("%w: undefined CID", ErrInvalidCID)
	}
	p := c.Prefix()
	switch {
	case p.Version != 1:
		return fmt.Errorf("%w: %s: CIDv%d, want CIDv1", ErrInvalidCID, c, p.Version)
	case p.MhType != mh.SHA2_256 || p.MhLength != sha256.Size:
		return fmt.Errorf("%w: %s: multihash 0x%x/%d, want sha2-256/32", ErrInvalidCID, c, p.MhType, p.MhLength)
	default:
		return fmt.Errorf("%w: %s: codec 0x%x, want raw (0x55) or dag-cbor (0x71)", ErrInvalidCID, c, p.Codec)
	}
}

// digest returns the sha2-256 digest inside a validated CID.
func digest(c cid.Cid) string { return c.KeyString()[4:] }

// verify checks that data hashes to the validated CID c.
func verify(c cid.Cid, data []byte) error {
	sum := sha256.Sum256(data)
	if string(sum[:]) != digest(c) {
		return fmt.Errorf("%w: %s: content hash mismatch", ErrCorrupt, c)
	}
	return nil
}

// ParseCID parses the canonical string form of a CID this store can hold:
// CIDv1, sha2-256, codec raw or dag-cbor, multibase base32 lower case (the
// form cid.Cid.String produces). Anything else is an error wrapping
// ErrInvalidCID that says what is wrong.
func ParseCID(str string) (cid.Cid, error) {
	switch {
	case str == "":
		return cid.Undef, fmt.Errorf("%w: empty string", ErrInvalidCID)
	case len(str) > maxCIDStr:
		return cid.Undef, fmt.Errorf("%w: %d characters, too long", ErrInvalidCID, len(str))
	case len(str) == 46 && strings.HasPrefix(str, "Qm"):
		return cid.Undef, fmt.Errorf("%w: %q is a CIDv0, want CIDv1", ErrInvalidCID, str)
	case str[0] != 'b':
		return cid.Undef, fmt.Errorf("%w: %q: not base32 lower case (multibase prefix 'b')", ErrInvalidCID, str)
	}
	c, err := cid.Decode(str)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q: %v", ErrInvalidCID, str, err)
	}
	if _, err := kindOf(c); err != nil {
		return cid.Undef, err
	}
	if c.String() != str {
		return cid.Undef, fmt.Errorf("%w: %q: not in canonical form %q", ErrInvalidCID, str, c.String())
	}
	return c, nil
}
