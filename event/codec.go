package event

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"
)

// encodingVersion is the first byte of every canonical encoding.
const encodingVersion = 1

// AppendBinary appends e's canonical encoding to b and returns the result.
// The layout is: version byte, 16-byte id, device (uvarint length + bytes),
// seq (uvarint), ts (zigzag varint), type (length + bytes), schema (uvarint),
// payload (length + bytes), blob count (uvarint) and each binary CID
// (length + bytes), then the 32-byte Prev hash. The same event always
// encodes to the same bytes.
//
// A redacted event encodes as its own version byte (2) followed by its
// redaction's encoding (Redaction.AppendBinary), which holds the header,
// the original's hash and Prev: that is what a store keeps and a peer
// sends for it. Its Hash is not the hash of this encoding but the
// original's.
func (e *Event) AppendBinary(b []byte) []byte {
	if e.Redaction != nil {
		b = append(b, redactedVersion)
		return e.Redaction.AppendBinary(b)
	}
	if cap(b)-len(b) < 200+len(e.Payload) {
		b = slices.Grow(b, e.EncodedLen()) // amortized: appending many events to one buffer stays linear
	}
	b = append(b, encodingVersion)
	b = append(b, e.ID[:]...)
	b = appendString(b, e.Device)
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.TS)
	b = appendString(b, e.Type)
	b = binary.AppendUvarint(b, uint64(e.Schema))
	b = binary.AppendUvarint(b, uint64(len(e.Payload)))
	b = append(b, e.Payload...)
	b = binary.AppendUvarint(b, uint64(len(e.Blobs)))
	for _, c := range e.Blobs {
		b = appendString(b, c.KeyString())
	}
	return append(b, e.Prev[:]...)
}

// EncodedLen returns the length of e's canonical encoding without
// building it.
func (e *Event) EncodedLen() int {
	if e.Redaction != nil {
		return 1 + e.Redaction.EncodedLen()
	}
	n := 1 + 16 + strLen(e.Device) + uvarintLen(e.Seq) + varintLen(e.TS) + strLen(e.Type) +
		uvarintLen(uint64(e.Schema)) + uvarintLen(uint64(len(e.Payload))) + len(e.Payload) + uvarintLen(uint64(len(e.Blobs))) + 32
	for _, c := range e.Blobs {
		n += strLen(c.KeyString())
	}
	return n
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// MarshalBinary returns e's canonical encoding.
func (e *Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil), nil }

// UnmarshalBinary decodes a canonical encoding into e, checking every size
// limit before allocating. It rejects trailing bytes and non-canonical
// varints. It does not run Validate, except on a redacted event's
// redaction, whose fields are always checked (not its signature).
func (e *Event) UnmarshalBinary(b []byte) error { return e.unmarshal(b, nil) }

// Decoder decodes many encodings, typically a run of one origin: events of
// the same device share one string (the same for every Decoder in the
// process), events of the same type share one, and payloads share the
// input's memory instead of copying it. The zero value is ready.
type Decoder struct {
	device, typ string
}

// Decode is the package's Decode through d. The event's Payload aliases
// b, which must not be modified while the event is in use.
func (d *Decoder) Decode(b []byte) (*Event, error) {
	e := new(Event)
	if err := d.DecodeInto(e, b); err != nil {
		return nil, err
	}
	return e, nil
}

// DecodeInto is Decode into e, so that a caller can decode many events
// into one slice instead of allocating each. On error e is unchanged.
func (d *Decoder) DecodeInto(e *Event, b []byte) error {
	var out Event
	if err := out.unmarshal(b, d); err != nil {
		return err
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*e = out
	return nil
}

// intern returns s as a string, the one last returned for the same bytes
// when there is one.
func intern(last *string, s []byte) string {
	if string(s) != *last {
		*last = string(s)
	}
	return *last
}

// unmarshal is UnmarshalBinary, sharing strings and payload through dec
// when it is not nil.
func (e *Event) unmarshal(b []byte, dec *Decoder) error {
	if len(b) > MaxEncodedLen {
		return fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalid, len(b), MaxEncodedLen)
	}
	d := decoder{b: b}
	var out Event
	switch v := d.byte(); {
	case d.err != nil:
	case v == redactedVersion:
		return e.unmarshalRedacted(&d)
	case v != encodingVersion:
		return fmt.Errorf("%w: unknown encoding version %d", ErrInvalid, v)
	}
	copy(out.ID[:], d.bytes(16))
	if dec != nil {
		if b := d.lenBytes(MaxDeviceLen, "device"); string(b) != dec.device {
			dec.device = internDevice(b)
		}
		out.Device = dec.device
	} else {
		out.Device = string(d.lenBytes(MaxDeviceLen, "device"))
	}
	out.Seq = d.uvarint()
	out.TS = d.varint()
	if dec != nil {
		out.Type = intern(&dec.typ, d.lenBytes(MaxTypeLen, "type"))
	} else {
		out.Type = string(d.lenBytes(MaxTypeLen, "type"))
	}
	schema := d.uvarint()
	if schema > 1<<32-1 && d.err == nil {
		d.fail("schema %d out of range", schema)
	}
	out.Schema = uint32(schema)
	switch p := d.lenBytes(MaxPayloadLen, "payload"); {
	case len(p) == 0:
	case dec != nil:
		out.Payload = p[:len(p):len(p)]
	default:
		out.Payload = append([]byte(nil), p...)
	}
	out.Blobs = d.cids()
	copy(out.Prev[:], d.bytes(32))
	if d.err == nil && d.off != len(b) {
		d.fail("%d trailing bytes", len(b)-d.off)
	}
	if d.err != nil {
		return d.err
	}
	*e = out
	return nil
}

// unmarshalRedacted decodes the rest of a redacted event's encoding.
func (e *Event) unmarshalRedacted(d *decoder) error {
	r, err := decodeRedaction(d)
	if err != nil {
		return err
	}
	if d.off != len(d.b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrInvalid, len(d.b)-d.off)
	}
	*e = *r.Stub()
	return nil
}

// Decode decodes and validates one canonical encoding.
func Decode(b []byte) (*Event, error) {
	e := new(Event)
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads fields from a byte slice, remembering the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
}

func (d *decoder) byte() byte {
	if p := d.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail("truncated at byte %d", d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 || n != uvarintLen(v) { // canonical: the shortest form
		d.fail("bad varint at byte %d", d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 || n != varintLen(v) { // canonical: the shortest form
		d.fail("bad varint at byte %d", d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) lenBytes(limit int, what string) []byte {
	n := d.uvarint()
	if d.err == nil && n > uint64(limit) {
		d.fail("%s of %d bytes exceeds %d", what, n, limit)
	}
	return d.bytes(int(n))
}

func (d *decoder) cids() []cid.Cid {
	n := d.uvarint()
	if d.err == nil && n > MaxBlobs {
		d.fail("%d blobs exceed %d", n, MaxBlobs)
	}
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]cid.Cid, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		raw := d.lenBytes(MaxCIDLen, "cid")
		if d.err != nil {
			break
		}
		c, err := cid.Cast(raw)
		if err != nil || c.KeyString() != string(raw) {
			d.fail("bad cid %d", i)
			break
		}
		out = append(out, c)
	}
	return out
}

// NewID returns a UUIDv7 from a millisecond timestamp, a 12-bit counter and
// 62 random bits; see IDGen for the generator used on ingest.
func NewID(ms int64, counter uint16, random [8]byte) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], uint64(ms)<<16)
	u[6] = 0x70 | byte(counter>>8&0x0f)
	u[7] = byte(counter)
	copy(u[8:], random[:])
	u[8] = 0x80 | u[8]&0x3f
	return u
}
