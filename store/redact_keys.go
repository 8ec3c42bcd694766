package store

import (
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
)

// Redaction keys all live under prefixRedact, then a kind byte:
//
//	x r | len(origin) | origin | seq(8 BE)      → event.Redaction encoding: the redaction of that dot
//	x l | n(8 BE)                              → len(origin) | origin | seq(8 BE): the n-th redaction to take effect here
//	x e | len(origin) | origin | seq(8 BE)      → location: held bytes of a redacted event still to erase
//	x b | len(cid) | cid | len(origin) | origin | seq(8 BE) → empty: a held whole event references the blob
//	x g | cid                                  → empty: a blob whose last reference was redacted, to release
//	x d | cid                                  → empty: a blob released because of a redaction
//	x i                                        → empty: the x b index covers every held event
const prefixRedact = 'x'

const (
	xRecord   = 'r'
	xLog      = 'l'
	xErase    = 'e'
	xBlobRef  = 'b'
	xRelease  = 'g'
	xReleased = 'd'
	xIndexed  = 'i'
)

var keyBlobsIndexed = []byte{prefixRedact, xIndexed}

func dotKey(kind byte, d crdt.Dot) []byte {
	k := make([]byte, 0, 3+len(d.Origin)+8)
	k = append(k, prefixRedact, kind, byte(len(d.Origin)))
	k = append(k, d.Origin...)
	return binary.BigEndian.AppendUint64(k, d.Seq)
}

// originPrefix is the prefix of kind's dot keys of one origin.
func originPrefix(kind byte, origin string) []byte {
	return append([]byte{prefixRedact, kind, byte(len(origin))}, origin...)
}

// decodeDot decodes len(origin) | origin | seq(8 BE), all of b.
func decodeDot(b []byte) (crdt.Dot, error) {
	if len(b) < 1 || len(b) != 1+int(b[0])+8 {
		return crdt.Dot{}, fmt.Errorf("store: corrupt redaction key %x", b)
	}
	n := int(b[0])
	return crdt.Dot{Origin: string(b[1 : 1+n]), Seq: binary.BigEndian.Uint64(b[1+n:])}, nil
}

func logKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixRedact, xLog}, n)
}

func blobRefPrefix(c cid.Cid) []byte {
	raw := c.KeyString()
	return append([]byte{prefixRedact, xBlobRef, byte(len(raw))}, raw...)
}

func blobRefKey(c cid.Cid, d crdt.Dot) []byte {
	k := append(blobRefPrefix(c), byte(len(d.Origin)))
	k = append(k, d.Origin...)
	return binary.BigEndian.AppendUint64(k, d.Seq)
}

func blobKey(kind byte, c cid.Cid) []byte {
	return append([]byte{prefixRedact, kind}, c.KeyString()...)
}

func (l location) encode() []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 16), l.segment)
	b = binary.BigEndian.AppendUint64(b, uint64(l.offset))
	return binary.BigEndian.AppendUint32(b, l.length)
}

func decodeLocation(b []byte) (location, error) {
	if len(b) != 16 {
		return location{}, fmt.Errorf("store: corrupt erase location of %d bytes", len(b))
	}
	return location{segment: binary.BigEndian.Uint32(b), offset: int64(binary.BigEndian.Uint64(b[4:])),
		length: binary.BigEndian.Uint32(b[12:])}, nil
}
