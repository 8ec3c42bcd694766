package event

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// RedactionType is the reserved event type of a redaction event: an
// ordinary event of the redacting device's log whose payload is a
// Redaction (see RedactionJSON). Clients cannot ingest it; a node creates
// it when it redacts an event.
const RedactionType = "rumor.redaction"

// ErrNotAllowed is wrapped by the error of a redaction whose redactor may
// not redact its target: it is neither the target's origin nor an
// operator of the verifying node.
var ErrNotAllowed = errors.New("event: redactor may not redact this event")

// redactionDomain separates redaction signatures from seals and every
// other use of a device key.
const redactionDomain = "rumor/redaction/v1\x00"

// redactedVersion is the first byte of a redacted event's encoding (a
// full event's is encodingVersion).
const redactedVersion = 2

// Redaction is a device's signed statement that the payload and blobs of
// one event are to be removed everywhere. It names its target by dot and
// id, carries the target's header (what stays visible of a redacted
// event), the hash of the target's canonical encoding and the target's
// Prev, so that the target's place in its origin's hash chain stays
// verifiable without the payload: the event after it links to Hash, the
// one before it is linked by Prev, and a seal over Hash still verifies.
//
// It is standalone verifiable: the redactor's device id is its public
// key. Who may redact what is the verifier's policy (Authorize): a device
// its own events, an operator any event.
type Redaction struct {
	Device   string    // the target's origin
	Seq      uint64    // the target's seq
	ID       uuid.UUID // the target's event id
	TS       int64     // the target's event time, epoch ms
	Type     string    // the target's type
	Schema   uint32    // the target's schema version
	Hash     Hash      // hash of the target's canonical encoding
	Prev     Hash      // the target's Prev
	Redactor string    // device id of the signer
	At       int64     // when the redaction was made, epoch ms
	Sig      []byte    // Ed25519 signature of Redactor over SignedBytes
}

// NewRedaction signs a redaction of target by the device redactor, whose
// key is key, made at epoch millisecond at. target must be a full event:
// a redacted one has nothing left to redact.
func NewRedaction(key Signer, redactor string, target *Event, at int64) (*Redaction, error) {
	if target.Redaction != nil {
		return nil, fmt.Errorf("%w: %s/%d is already redacted", ErrInvalid, target.Device, target.Seq)
	}
	r := &Redaction{
		Device: target.Device, Seq: target.Seq, ID: target.ID, TS: target.TS, Type: target.Type,
		Schema: target.Schema, Hash: target.Hash(), Prev: target.Prev, Redactor: redactor, At: at,
	}
	if err := r.validateFields(); err != nil {
		return nil, err
	}
	sig, err := key.Sign(r.SignedBytes())
	if err != nil {
		return nil, fmt.Errorf("event: sign redaction: %w", err)
	}
	r.Sig = sig
	return r, nil
}

// SignedBytes returns the bytes the signature covers: a domain tag and
// every field but the signature, in encoding order.
func (r *Redaction) SignedBytes() []byte {
	b := make([]byte, 0, len(redactionDomain)+r.bodyLen())
	b = append(b, redactionDomain...)
	return r.appendBody(b)
}

// appendBody appends every field but the signature: target device (length
// + bytes), seq (uvarint), id (16), ts (zigzag varint), type (length +
// bytes), schema (uvarint), hash (32), prev (32), redactor (length +
// bytes), at (zigzag varint).
func (r *Redaction) appendBody(b []byte) []byte {
	b = appendString(b, r.Device)
	b = binary.AppendUvarint(b, r.Seq)
	b = append(b, r.ID[:]...)
	b = binary.AppendVarint(b, r.TS)
	b = appendString(b, r.Type)
	b = binary.AppendUvarint(b, uint64(r.Schema))
	b = append(b, r.Hash[:]...)
	b = append(b, r.Prev[:]...)
	b = appendString(b, r.Redactor)
	return binary.AppendVarint(b, r.At)
}

func (r *Redaction) bodyLen() int {
	return strLen(r.Device) + uvarintLen(r.Seq) + 16 + varintLen(r.TS) + strLen(r.Type) +
		uvarintLen(uint64(r.Schema)) + 64 + strLen(r.Redactor) + varintLen(r.At)
}

// AppendBinary appends the redaction's encoding: the body (see
// SignedBytes, without the domain tag) then the signature (length +
// bytes).
func (r *Redaction) AppendBinary(b []byte) []byte {
	b = r.appendBody(b)
	return appendString(b, string(r.Sig))
}

// EncodedLen is the length of AppendBinary's output.
func (r *Redaction) EncodedLen() int { return r.bodyLen() + strLen(string(r.Sig)) }

// MarshalBinary returns the redaction's encoding.
func (r *Redaction) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil), nil }

// UnmarshalBinary decodes a redaction encoding strictly (sizes, minimal
// varints, no trailing bytes) and checks its fields (Validate). It does not
// verify the signature.
func (r *Redaction) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	out, err := decodeRedaction(&d)
	if err != nil {
		return err
	}
	if d.off != len(b) {
		return fmt.Errorf("%w: %d trailing bytes after redaction", ErrInvalid, len(b)-d.off)
	}
	*r = *out
	return nil
}

// decodeRedaction reads one redaction from d and validates its fields.
func decodeRedaction(d *decoder) (*Redaction, error) {
	var r Redaction
	r.Device = string(d.lenBytes(MaxDeviceLen, "device"))
	r.Seq = d.uvarint()
	copy(r.ID[:], d.bytes(16))
	r.TS = d.varint()
	r.Type = string(d.lenBytes(MaxTypeLen, "type"))
	schema := d.uvarint()
	if schema > 1<<32-1 && d.err == nil {
		d.fail("schema %d out of range", schema)
	}
	r.Schema = uint32(schema)
	copy(r.Hash[:], d.bytes(32))
	copy(r.Prev[:], d.bytes(32))
	r.Redactor = string(d.lenBytes(MaxDeviceLen, "redactor"))
	r.At = d.varint()
	r.Sig = append([]byte(nil), d.lenBytes(ed25519.SignatureSize, "signature")...)
	if d.err != nil {
		return nil, d.err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks the fields: the target's header follows the rules of
// Event.Validate, the target is not itself a redaction event, a redactor
// is named and the signature has Ed25519's size. It does not verify the
// signature (Verify) or the redactor's right (Authorize).
func (r *Redaction) Validate() error {
	if err := r.validateFields(); err != nil {
		return err
	}
	if len(r.Sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: redaction signature of %d bytes", ErrInvalid, len(r.Sig))
	}
	return nil
}

func (r *Redaction) validateFields() error {
	stub := r.stubHeader()
	stub.Payload = emptyPayload
	if err := stub.Validate(); err != nil {
		return fmt.Errorf("%w: redaction target: %w", ErrInvalid, err)
	}
	switch {
	case r.Type == RedactionType:
		return fmt.Errorf("%w: a redaction event cannot be redacted", ErrInvalid)
	case !utf8.ValidString(r.Type):
		return fmt.Errorf("%w: redaction of an event whose type is not UTF-8", ErrInvalid)
	case r.Redactor == "" || len(r.Redactor) > MaxDeviceLen:
		return fmt.Errorf("%w: bad redactor id length %d", ErrInvalid, len(r.Redactor))
	}
	return nil
}

// Verify checks the signature against the public key embedded in the
// redactor's device id.
func (r *Redaction) Verify() error {
	pub, err := PublicKey(r.Redactor)
	if err != nil {
		return err
	}
	ok, err := pub.Verify(r.SignedBytes(), r.Sig)
	if err != nil || !ok {
		return fmt.Errorf("%w: bad redaction signature by %s for %s/%d", ErrInvalid, r.Redactor, r.Device, r.Seq)
	}
	return nil
}

// Authorize checks the redactor's right under a verifier's policy: a
// device may redact its own events, and a device for which isOperator
// reports true may redact any event. The error wraps ErrNotAllowed.
func (r *Redaction) Authorize(isOperator func(device string) bool) error {
	if r.Redactor == r.Device || (isOperator != nil && isOperator(r.Redactor)) {
		return nil
	}
	return fmt.Errorf("%w: %s is not the origin of %s/%d nor an operator", ErrNotAllowed, r.Redactor, r.Device, r.Seq)
}

// Check runs Validate, Verify and Authorize: everything a node checks
// before letting a redaction take effect.
func (r *Redaction) Check(isOperator func(device string) bool) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := r.Verify(); err != nil {
		return err
	}
	return r.Authorize(isOperator)
}

// Targets reports whether r is about e: same dot, id, header and hash.
// e must be a full event (a redacted one carries its redaction).
func (r *Redaction) Targets(e *Event) bool {
	return e.Redaction == nil && r.header() == e.header() && r.Hash == e.Hash()
}

// eventHeader is what stays visible of a redacted event.
type eventHeader struct {
	id     uuid.UUID
	device string
	seq    uint64
	ts     int64
	typ    string
	schema uint32
	prev   Hash
}

func (r *Redaction) header() eventHeader {
	return eventHeader{r.ID, r.Device, r.Seq, r.TS, r.Type, r.Schema, r.Prev}
}

func (e *Event) header() eventHeader {
	return eventHeader{e.ID, e.Device, e.Seq, e.TS, e.Type, e.Schema, e.Prev}
}

// emptyPayload is a redacted event's payload.
var emptyPayload = []byte("{}")

func (r *Redaction) stubHeader() *Event {
	return &Event{ID: r.ID, Device: r.Device, Seq: r.Seq, TS: r.TS, Type: r.Type, Schema: r.Schema, Prev: r.Prev}
}

// Stub returns the redacted form of r's target: its header, an empty
// payload ({}), no blobs, and r. Its Hash is r.Hash, so it takes the
// target's place in the origin's hash chain; its encoding (AppendBinary)
// is the redaction's, behind its own version byte.
func (r *Redaction) Stub() *Event {
	e := r.stubHeader()
	e.Payload = emptyPayload
	e.Redaction = r
	return e
}

// Redacted reports whether e is the redacted form of an event.
func (e *Event) Redacted() bool { return e.Redaction != nil }
