package cas

import (
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-cid"
)

// CBOR major types used by the root block.
const (
	cborUint  = 0 << 5
	cborArray = 4 << 5
)

const (
	rootMap   = "\xa2"                 // map(2)
	keySize   = "\x64size"             // text(4) "size"
	keyChunks = "\x66chunks"           // text(6) "chunks"
	linkHead  = "\xd8\x2a\x58\x25\x00" // tag(42) bytes(37) 0x00 (identity multibase)
	linkLen   = len(linkHead) + cidLen
	// rootHeaderMax bounds everything but the links: map, both keys, a 9-byte
	// size and a 9-byte array header.
	rootHeaderMax = len(rootMap) + len(keySize) + 9 + len(keyChunks) + 9
)

// root is a decoded root block: the chunks of a blob larger than ChunkSize.
type root struct {
	size  int64
	links []cid.Cid
}

// numChunks is how many chunks a blob of size bytes has (at least one).
func numChunks(size int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + ChunkSize - 1) / ChunkSize)
}

// chunkLen is the length of chunk i of a blob of size bytes.
func chunkLen(size int64, i int) int {
	if rest := size - int64(i)*ChunkSize; rest < ChunkSize {
		return int(rest)
	}
	return ChunkSize
}

// appendHead appends a minimal-length CBOR head for major type major.
func appendHead(b []byte, major byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(b, major|byte(v))
	case v <= 0xff:
		return append(b, major|24, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, major|27), v)
	}
}

// encode returns the canonical root block. It panics if r breaks the format's
// invariants, which only a bug in this package can cause.
func (r root) encode() []byte {
	if err := r.check(); err != nil {
		panic("cas: encoding an invalid root: " + err.Error())
	}
	b := make([]byte, 0, rootHeaderMax+len(r.links)*linkLen)
	b = append(b, rootMap+keySize...)
	b = appendHead(b, cborUint, uint64(r.size))
	b = append(b, keyChunks...)
	b = appendHead(b, cborArray, uint64(len(r.links)))
	for _, l := range r.links {
		b = append(b, linkHead...)
		b = append(b, l.KeyString()...)
	}
	return b
}

// check validates the invariants of a root.
func (r root) check() error {
	if r.size <= ChunkSize || r.size > MaxSize {
		return fmt.Errorf("size %d outside (%d, %d]", r.size, ChunkSize, MaxSize)
	}
	if want := numChunks(r.size); len(r.links) != want {
		return fmt.Errorf("%d links for size %d, want %d", len(r.links), r.size, want)
	}
	for i, l := range r.links {
		if k, err := kindOf(l); err != nil || k != kindRaw {
			return fmt.Errorf("link %d is not a raw sha2-256 CIDv1", i)
		}
	}
	return nil
}

// decodeRoot parses a root block, accepting only the canonical encoding.
func decodeRoot(b []byte) (root, error) {
	r, err := parseRoot(b)
	if err != nil {
		return root{}, fmt.Errorf("%w: root block: %v", ErrCorrupt, err)
	}
	return r, nil
}

func parseRoot(b []byte) (root, error) {
	if len(b) > MaxRootSize {
		return root{}, fmt.Errorf("%d bytes, limit %d", len(b), MaxRootSize)
	}
	d := decoder{b: b}
	d.literal(rootMap + keySize)
	size := d.head(cborUint)
	d.literal(keyChunks)
	n := d.head(cborArray)
	if d.err != nil {
		return root{}, d.err
	}
	if size <= ChunkSize || size > MaxSize {
		return root{}, fmt.Errorf("size %d outside (%d, %d]", size, ChunkSize, MaxSize)
	}
	if want := numChunks(int64(size)); n != uint64(want) {
		return root{}, fmt.Errorf("%d links for size %d, want %d", n, size, want)
	}
	if len(d.b) != int(n)*linkLen {
		return root{}, fmt.Errorf("%d bytes of links, want %d", len(d.b), int(n)*linkLen)
	}
	r := root{size: int64(size), links: make([]cid.Cid, n)}
	for i := range r.links {
		d.literal(linkHead)
		r.links[i] = d.link()
	}
	return r, d.err
}

// decoder is a cursor over a root block; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

// literal consumes exactly s.
func (d *decoder) literal(s string) {
	if len(d.b) < len(s) || string(d.b[:len(s)]) != s {
		d.fail("expected %x", s)
		return
	}
	d.b = d.b[len(s):]
}

// head consumes a minimal-length CBOR head of the given major type.
func (d *decoder) head(major byte) uint64 {
	if len(d.b) == 0 || d.b[0]&0xe0 != major {
		d.fail("expected CBOR major type %d", major>>5)
		return 0
	}
	info := d.b[0] & 0x1f
	if info < 24 {
		d.b = d.b[1:]
		return uint64(info)
	}
	if info > 27 {
		d.fail("unsupported CBOR additional info %d", info)
		return 0
	}
	n := 1 << (info - 24)
	if len(d.b) < 1+n {
		d.fail("truncated CBOR head")
		return 0
	}
	var v uint64
	for _, c := range d.b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	if len(appendHead(nil, major, v)) != 1+n {
		d.fail("non-minimal CBOR head")
		return 0
	}
	d.b = d.b[1+n:]
	return v
}

// link consumes a binary raw sha2-256 CIDv1.
func (d *decoder) link() cid.Cid {
	if d.err != nil {
		return cid.Undef
	}
	if len(d.b) < cidLen {
		d.fail("truncated link")
		return cid.Undef
	}
	c, err := cid.Cast(d.b[:cidLen])
	if err == nil {
		var k kind
		if k, err = kindOf(c); err == nil && k != kindRaw {
			err = fmt.Errorf("links to a root")
		}
	}
	if err != nil {
		d.fail("link: %v", err)
		return cid.Undef
	}
	d.b = d.b[cidLen:]
	return c
}
