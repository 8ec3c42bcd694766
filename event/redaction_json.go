package event

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// maxRedactionJSON bounds a redaction event's payload: every field at its
// limit fits well within it.
const maxRedactionJSON = 2048

// redactionJSON is the JSON form of a Redaction, the payload of a
// redaction event. Hashes are lowercase hex, the signature standard
// base64.
type redactionJSON struct {
	DeviceID   string `json:"device_id"`
	Seq        uint64 `json:"seq"`
	EventID    string `json:"event_id"`
	TS         int64  `json:"ts"`
	Type       string `json:"type"`
	Schema     uint32 `json:"schema"`
	Hash       string `json:"hash"`
	Prev       string `json:"prev"`
	Redactor   string `json:"redactor"`
	RedactedAt int64  `json:"redacted_at"`
	Sig        string `json:"sig"`
}

// Payload returns the redaction's JSON form, the payload of the redaction
// event that carries it: {"device_id", "seq", "event_id", "ts", "type",
// "schema", "hash", "prev", "redactor", "redacted_at", "sig"}, compact, in
// that order. The same redaction always gives the same bytes.
func (r *Redaction) Payload() json.RawMessage {
	b, err := json.Marshal(redactionJSON{
		DeviceID: r.Device, Seq: r.Seq, EventID: r.ID.String(), TS: r.TS, Type: r.Type, Schema: r.Schema,
		Hash: r.Hash.String(), Prev: r.Prev.String(), Redactor: r.Redactor, RedactedAt: r.At,
		Sig: base64.StdEncoding.EncodeToString(r.Sig),
	})
	if err != nil { // strings and integers always marshal
		panic(fmt.Sprintf("event: marshal redaction: %v", err))
	}
	return b
}

// Input returns the ingest input of the redaction event that carries r:
// type RedactionType, the redaction's Payload, event time r.At.
func (r *Redaction) Input() Input {
	return Input{Type: RedactionType, TS: r.At, HasTS: true, Schema: DefaultSchema, Payload: r.Payload()}
}

// ParseRedaction decodes a redaction event's payload. It accepts exactly
// the bytes Payload produces for a valid redaction (so every node reads the
// same redaction from the same event), and checks the fields (Validate),
// not the signature. Errors wrap ErrInvalid.
func ParseRedaction(p []byte) (*Redaction, error) {
	if len(p) > maxRedactionJSON {
		return nil, fmt.Errorf("%w: redaction payload of %d bytes exceeds %d", ErrInvalid, len(p), maxRedactionJSON)
	}
	var j redactionJSON
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: redaction payload: %v", ErrInvalid, err)
	}
	r := &Redaction{Device: j.DeviceID, Seq: j.Seq, TS: j.TS, Type: j.Type, Schema: j.Schema,
		Redactor: j.Redactor, At: j.RedactedAt}
	var err error
	if r.ID, err = uuid.Parse(j.EventID); err != nil {
		return nil, fmt.Errorf("%w: redaction event_id: %v", ErrInvalid, err)
	}
	if err := parseHash(j.Hash, &r.Hash); err != nil {
		return nil, fmt.Errorf("%w: redaction hash: %v", ErrInvalid, err)
	}
	if err := parseHash(j.Prev, &r.Prev); err != nil {
		return nil, fmt.Errorf("%w: redaction prev: %v", ErrInvalid, err)
	}
	if r.Sig, err = base64.StdEncoding.Strict().DecodeString(j.Sig); err != nil {
		return nil, fmt.Errorf("%w: redaction sig: %v", ErrInvalid, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if !bytes.Equal(r.Payload(), p) {
		return nil, fmt.Errorf("%w: redaction payload is not in canonical form", ErrInvalid)
	}
	return r, nil
}

func parseHash(s string, h *Hash) error {
	if len(s) != 2*len(h) {
		return fmt.Errorf("%d hex digits, want %d", len(s), 2*len(h))
	}
	_, err := hex.Decode(h[:], []byte(s))
	return err
}

// RedactionOf returns the redaction a redaction event carries, checking
// its form and that the event's origin is the redactor (the statement
// lives in the redactor's own log). It does not verify the signature or
// the redactor's right (Redaction.Check). Errors wrap ErrInvalid.
func RedactionOf(e *Event) (*Redaction, error) {
	if e.Type != RedactionType || e.Redaction != nil {
		return nil, fmt.Errorf("%w: %s/%d is not a redaction event", ErrInvalid, e.Device, e.Seq)
	}
	r, err := ParseRedaction(e.Payload)
	if err != nil {
		return nil, err
	}
	if r.Redactor != e.Device {
		return nil, fmt.Errorf("%w: redaction by %s inside an event of %s", ErrInvalid, r.Redactor, e.Device)
	}
	return r, nil
}
