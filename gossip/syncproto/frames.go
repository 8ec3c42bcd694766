package syncproto

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/rumor-sync/rumor/crdt"
)

// Limits enforced by the encoders and, before any allocation, the decoders.
const (
	MaxFrame      = 16 << 20 // bytes of one frame's payload
	MaxHelloFrame = 64       // bytes of a whole HELLO frame, header included
	MaxErrorMsg   = 256      // bytes of an ERROR frame's message
)

// Type is a frame's message type, its second byte.
type Type uint8

// Message types.
const (
	TypeHello   Type = 1 + iota // digest of the sender's causal context
	TypeSyncReq                 // the sender's whole causal context
	TypeDelta                   // a batch of one origin's events, maybe sealed
	TypeDone                    // the sender has sent everything the peer misses
	TypeAck                     // the receiver has handled one DELTA
	TypeError                   // the sender ends the session
)

var typeNames = [...]string{TypeHello: "HELLO", TypeSyncReq: "SYNC_REQ", TypeDelta: "DELTA",
	TypeDone: "DONE", TypeAck: "ACK", TypeError: "ERROR"}

// String names the type as the protocol description does.
func (t Type) String() string {
	if t >= TypeHello && t <= TypeError {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

const maxAckLen = binary.MaxVarintLen64 + 16 // applied, digest

// maxPayload is the largest payload a frame of type t may declare, and
// whether t is known.
func maxPayload(t Type) (int, bool) {
	switch t {
	case TypeHello:
		return MaxHelloFrame - 3, true // version, type, one-byte length
	case TypeSyncReq, TypeDelta:
		return MaxFrame, true
	case TypeDone:
		return 0, true
	case TypeAck:
		return maxAckLen, true
	case TypeError:
		return 1 + 2 + MaxErrorMsg, true
	}
	return 0, false
}

// Message is one protocol message. The implementations are *Hello,
// *SyncReq, *Delta, *Done, *Ack and *Error; MarshalBinary returns the
// payload (the frame body, without header) and each type's UnmarshalBinary
// decodes it strictly.
type Message interface {
	// Type is the frame type that carries the message.
	Type() Type
	// MarshalBinary returns the message's canonical payload encoding.
	MarshalBinary() ([]byte, error)
	// appendPayload appends the payload as protocol version v encodes it.
	appendPayload(b []byte, v uint8) ([]byte, error)
}

// digest16 is the HELLO digest of c.
func digest16(c *crdt.Context) [16]byte {
	var d [16]byte
	full := c.Digest()
	copy(d[:], full[:16])
	return d
}

// SyncReq carries the sender's whole causal context, so that the peer can
// compute exactly what the sender misses.
type SyncReq struct {
	Context []byte // crdt.Context MarshalBinary encoding
	ctx     *crdt.Context
}

// Type returns TypeSyncReq.
func (*SyncReq) Type() Type { return TypeSyncReq }

// MarshalBinary returns the context encoding itself.
func (q *SyncReq) MarshalBinary() ([]byte, error) { return q.appendPayload(nil, Version) }

func (q *SyncReq) appendPayload(b []byte, _ uint8) ([]byte, error) {
	if len(q.Context) == 0 || len(q.Context) > MaxFrame {
		return nil, fmt.Errorf("syncproto: SYNC_REQ context of %d bytes outside [1, %d]", len(q.Context), MaxFrame)
	}
	return append(b, q.Context...), nil
}

// UnmarshalBinary decodes and validates a SYNC_REQ payload: it must be a
// canonical crdt.Context encoding.
func (q *SyncReq) UnmarshalBinary(b []byte) error {
	ctx, err := decodeContext(b)
	if err != nil {
		return err
	}
	q.Context, q.ctx = append([]byte(nil), b...), ctx
	return nil
}

// decodedContext returns the context, decoding it if needed.
func (q *SyncReq) decodedContext() (*crdt.Context, error) {
	if q.ctx != nil {
		return q.ctx, nil
	}
	return decodeContext(q.Context)
}

func decodeContext(b []byte) (*crdt.Context, error) {
	if len(b) > MaxFrame {
		return nil, fmt.Errorf("%w: SYNC_REQ context of %d bytes exceeds %d", ErrMalformed, len(b), MaxFrame)
	}
	ctx := crdt.NewContext()
	if err := ctx.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("%w: SYNC_REQ context: %w", ErrMalformed, err)
	}
	return ctx, nil
}

// Done says the sender has sent every event the peer misses. Its payload
// is empty.
type Done struct{}

// Type returns TypeDone.
func (*Done) Type() Type { return TypeDone }

// MarshalBinary returns the empty payload.
func (d *Done) MarshalBinary() ([]byte, error) { return d.appendPayload(nil, Version) }

func (*Done) appendPayload(b []byte, _ uint8) ([]byte, error) { return b, nil }

// UnmarshalBinary accepts only the empty payload.
func (*Done) UnmarshalBinary(b []byte) error {
	if len(b) != 0 {
		return fmt.Errorf("%w: DONE with %d payload bytes", ErrMalformed, len(b))
	}
	return nil
}

// Ack acknowledges one DELTA: the receiver has buffered it or, for the
// frame that completes a sealed run, durably applied the run.
type Ack struct {
	Applied uint64 // events this DELTA made the receiver apply
	// Digest is the receiver's HELLO digest as of its HELLO or, once the
	// peer has sent DONE, after its last apply. It is informational:
	// computing it means waiting for the receiver's index, which a
	// receiver does not do while runs are still arriving.
	Digest [16]byte
}

// Type returns TypeAck.
func (*Ack) Type() Type { return TypeAck }

// MarshalBinary returns applied (uvarint) followed by the digest.
func (a *Ack) MarshalBinary() ([]byte, error) { return a.appendPayload(nil, Version) }

func (a *Ack) appendPayload(b []byte, _ uint8) ([]byte, error) {
	b = binary.AppendUvarint(b, a.Applied)
	return append(b, a.Digest[:]...), nil
}

// UnmarshalBinary decodes an ACK payload.
func (a *Ack) UnmarshalBinary(b []byte) error {
	r := reader{b: b, what: "ACK"}
	applied := r.uvarint("applied")
	d := r.bytes(16, "digest")
	if err := r.finish(); err != nil {
		return err
	}
	a.Applied = applied
	copy(a.Digest[:], d)
	return nil
}

// Error ends the session; Code says why and Msg is a short UTF-8 text of at
// most MaxErrorMsg bytes.
type Error struct {
	Code Code   // why; never 0
	Msg  string // human-readable details
}

// Type returns TypeError.
func (*Error) Type() Type { return TypeError }

// MarshalBinary returns the code, then the message (uvarint length + bytes).
func (e *Error) MarshalBinary() ([]byte, error) { return e.appendPayload(nil, Version) }

func (e *Error) appendPayload(b []byte, _ uint8) ([]byte, error) {
	if err := checkError(e.Code, e.Msg); err != nil {
		return nil, err
	}
	b = append(b, byte(e.Code))
	b = binary.AppendUvarint(b, uint64(len(e.Msg)))
	return append(b, e.Msg...), nil
}

// UnmarshalBinary decodes an ERROR payload.
func (e *Error) UnmarshalBinary(b []byte) error {
	r := reader{b: b, what: "ERROR"}
	code := Code(r.byte("code"))
	n := r.uvarint("message length")
	if r.err == nil && n > MaxErrorMsg {
		r.fail("message of %d bytes exceeds %d", n, MaxErrorMsg)
	}
	msg := string(r.bytes(n, "message"))
	if err := r.finish(); err != nil {
		return err
	}
	if err := checkError(code, msg); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	e.Code, e.Msg = code, msg
	return nil
}

func checkError(code Code, msg string) error {
	switch {
	case code == 0:
		return fmt.Errorf("syncproto: ERROR code 0 is reserved")
	case len(msg) > MaxErrorMsg:
		return fmt.Errorf("syncproto: ERROR message of %d bytes exceeds %d", len(msg), MaxErrorMsg)
	case !utf8.ValidString(msg):
		return fmt.Errorf("syncproto: ERROR message is not UTF-8")
	}
	return nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
