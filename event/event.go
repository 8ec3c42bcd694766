package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/internal/jsonscan"
)

// Limits on event fields, enforced by every decoder and by ParseInput.
const (
	MaxTypeLen    = 128       // bytes in Type
	MaxDeviceLen  = 128       // bytes in Device (a textual peer ID)
	MaxPayloadLen = 8 << 20   // bytes of compact JSON payload
	MaxBlobs      = 1024      // CIDs referenced by one event
	MaxCIDLen     = 128       // bytes of one binary CID
	MaxEncodedLen = 9 << 20   // bytes of one canonical encoding
	DefaultSchema = uint32(1) // schema version when none is given
)

// ErrInvalid is wrapped by every validation and decoding error of this package.
var ErrInvalid = errors.New("event: invalid")

// Hash is a SHA-256 digest of an event's canonical encoding.
type Hash [32]byte

// String returns the hash as lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros (the Prev of an origin's first event).
func (h Hash) IsZero() bool { return h == Hash{} }

// Event is one analytics event as stored and replicated. The pair
// (Device, Seq) is its dot.
type Event struct {
	ID      uuid.UUID       // UUIDv7, time-ordered
	Device  string          // origin: textual libp2p peer ID
	Seq     uint64          // per-origin sequence number, contiguous from 1
	TS      int64           // event time, epoch milliseconds
	Type    string          // non-empty, at most MaxTypeLen bytes
	Schema  uint32          // payload schema version
	Payload json.RawMessage // compact JSON object
	Blobs   []cid.Cid       // blobs the event references
	Prev    Hash            // hash of the origin's event at Seq-1; zero for Seq 1
}

// Hash returns the SHA-256 of e's canonical encoding.
func (e *Event) Hash() Hash {
	return sha256.Sum256(e.AppendBinary(nil))
}

// JSON is the API representation of an event.
type JSON struct {
	EventID  string          `json:"event_id"`
	DeviceID string          `json:"device_id"`
	Seq      uint64          `json:"seq"`
	TS       int64           `json:"ts"`
	Type     string          `json:"type"`
	Schema   uint32          `json:"schema"`
	Payload  json.RawMessage `json:"payload"`
	Blobs    []string        `json:"blobs"`
	Prev     string          `json:"prev"`
	HLC      string          `json:"hlc"` // the id's hybrid logical clock stamp, <ms>.<counter>
}

// ToJSON returns the API representation of e.
func (e *Event) ToJSON() JSON {
	blobs := make([]string, len(e.Blobs))
	for i, c := range e.Blobs {
		blobs[i] = c.String()
	}
	payload := e.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	return JSON{
		EventID: e.ID.String(), DeviceID: e.Device, Seq: e.Seq, TS: e.TS,
		Type: e.Type, Schema: e.Schema, Payload: payload, Blobs: blobs,
		Prev: e.Prev.String(), HLC: HLCOf(e.ID).String(),
	}
}

// Validate checks the semantic rules of an event's fields: a non-empty type,
// a seq from 1, a zero Prev exactly when Seq is 1, a JSON object payload, a
// UUIDv7 id (version 7, RFC 9562 variant) and defined CIDv1 blobs. It also
// checks the size limits, so an event that passes Validate always survives
// an AppendBinary/UnmarshalBinary round trip.
func (e *Event) Validate() error {
	switch {
	case e.Type == "":
		return fmt.Errorf("%w: empty type", ErrInvalid)
	case len(e.Type) > MaxTypeLen:
		return fmt.Errorf("%w: type longer than %d bytes", ErrInvalid, MaxTypeLen)
	case e.Device == "" || len(e.Device) > MaxDeviceLen:
		return fmt.Errorf("%w: bad device id length %d", ErrInvalid, len(e.Device))
	case e.Seq == 0:
		return fmt.Errorf("%w: seq 0", ErrInvalid)
	case e.ID.Version() != 7 || e.ID.Variant() != uuid.RFC4122:
		return fmt.Errorf("%w: event id is not a UUIDv7", ErrInvalid)
	case e.Seq == 1 && !e.Prev.IsZero():
		return fmt.Errorf("%w: first event with a predecessor hash", ErrInvalid)
	case e.Seq > 1 && e.Prev.IsZero():
		return fmt.Errorf("%w: event at seq %d without a predecessor hash", ErrInvalid, e.Seq)
	case len(e.Blobs) > MaxBlobs:
		return fmt.Errorf("%w: more than %d blobs", ErrInvalid, MaxBlobs)
	}
	if err := checkObject(e.Payload); err != nil {
		return err
	}
	for i, c := range e.Blobs {
		switch {
		case !c.Defined(): // cid.Undef reports version 1 but cannot be decoded
			return fmt.Errorf("%w: blob %d is an undefined CID", ErrInvalid, i)
		case c.Version() != 1:
			return fmt.Errorf("%w: blob %s is not a CIDv1", ErrInvalid, c)
		case len(c.KeyString()) > MaxCIDLen:
			return fmt.Errorf("%w: blob %d is longer than %d bytes", ErrInvalid, i, MaxCIDLen)
		}
	}
	return nil
}

// checkObject reports whether p is a valid JSON object.
func checkObject(p []byte) error {
	if len(p) > MaxPayloadLen {
		return fmt.Errorf("%w: payload larger than %d bytes", ErrInvalid, MaxPayloadLen)
	}
	if len(p) == 0 || p[0] != '{' || !jsonscan.Valid(p) {
		return fmt.Errorf("%w: payload is not a JSON object", ErrInvalid)
	}
	return nil
}
