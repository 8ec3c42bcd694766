package syncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Frame layout, protocol version 1:
//
//	frame = version:byte(1) type:byte length:uvarint payload:length
//
// The length is a minimal uvarint and at most the type's limit (MaxFrame;
// a whole HELLO frame is at most MaxHelloFrame bytes; DONE has an empty
// payload; ACK and ERROR are a few hundred bytes at most).

// maxLenBytes is the longest uvarint of a length up to MaxFrame.
const maxLenBytes = 4

// readChunk bounds how much ReadFrame allocates ahead of the bytes it has
// actually received.
const readChunk = 64 << 10

// AppendFrame appends m's frame to b. It fails if m cannot be encoded or
// exceeds its type's size limit.
func AppendFrame(b []byte, m Message) ([]byte, error) {
	if m == nil {
		return b, errors.New("syncproto: nil message")
	}
	limit, ok := maxPayload(m.Type())
	if !ok {
		return b, fmt.Errorf("syncproto: unknown message type %d", m.Type())
	}
	p, err := payload(m)
	if err != nil {
		return b, err
	}
	if len(p) > limit {
		return b, fmt.Errorf("syncproto: %s payload of %d bytes exceeds %d", m.Type(), len(p), limit)
	}
	b = slices.Grow(b, 2+maxLenBytes+len(p))
	b = append(b, Version, byte(m.Type()))
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...), nil
}

// WriteFrame writes m as one frame with a single Write call.
func WriteFrame(w io.Writer, m Message) error {
	frame, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("syncproto: write %s frame: %w", m.Type(), err)
	}
	return nil
}

// ReadFrame reads exactly one frame from r and decodes it. It checks the
// version, the type and the declared length against the type's limit before
// allocating, and never allocates much more than the bytes actually
// received. It returns io.EOF if r ends cleanly before the frame; errors
// about the frame's contents (including a frame cut short) wrap
// ErrMalformed; errors from r are returned wrapped.
func ReadFrame(r io.Reader) (Message, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, readError(err)
	}
	if hdr[0] != Version {
		return nil, fmt.Errorf("%w: protocol version %d, want %d", ErrMalformed, hdr[0], Version)
	}
	t := Type(hdr[1])
	limit, ok := maxPayload(t)
	if !ok {
		return nil, fmt.Errorf("%w: unknown frame type %d", ErrMalformed, hdr[1])
	}
	n, err := readLength(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: %s payload of %d bytes exceeds %d", ErrMalformed, t, n, limit)
	}
	payload, err := readPayload(r, int(n))
	if err != nil {
		return nil, err
	}
	return decodePayload(t, payload)
}

// DecodeFrame decodes b, which must hold exactly one frame.
func DecodeFrame(b []byte) (Message, error) {
	r := bytes.NewReader(b)
	m, err := ReadFrame(r)
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: empty frame", ErrMalformed)
	case err != nil:
		return nil, err
	case r.Len() != 0:
		return nil, fmt.Errorf("%w: %d trailing bytes after the frame", ErrMalformed, r.Len())
	}
	return m, nil
}

func readError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: truncated frame: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("syncproto: read frame: %w", err)
}

// readLength reads the payload length: a minimal uvarint of at most
// maxLenBytes bytes.
func readLength(r io.Reader) (uint64, error) {
	var v uint64
	var b [1]byte
	for i := 0; i < maxLenBytes; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, readError(err)
		}
		v |= uint64(b[0]&0x7f) << (7 * i)
		if b[0] < 0x80 {
			if i > 0 && b[0] == 0 {
				return 0, fmt.Errorf("%w: non-minimal frame length", ErrMalformed)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: frame length longer than %d bytes", ErrMalformed, maxLenBytes)
}

// readPayload reads n bytes, growing the buffer as bytes arrive so that a
// peer that declares a large frame and stalls costs little memory.
func readPayload(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(n-len(buf), cap(buf)))...)[:len(buf)]
		}
		end := min(n, cap(buf))
		if _, err := io.ReadFull(r, buf[len(buf):end]); err != nil {
			return nil, readError(err)
		}
		buf = buf[:end]
	}
	return buf, nil
}

// decodePayload decodes the payload of a frame of type t.
func decodePayload(t Type, payload []byte) (Message, error) {
	var m interface {
		Message
		UnmarshalBinary([]byte) error
	}
	switch t {
	case TypeHello:
		m = new(Hello)
	case TypeSyncReq:
		m = new(SyncReq)
	case TypeDelta:
		m = new(Delta)
	case TypeDone:
		m = new(Done)
	case TypeAck:
		m = new(Ack)
	case TypeError:
		m = new(Error)
	default:
		return nil, fmt.Errorf("%w: unknown frame type %d", ErrMalformed, t)
	}
	if err := m.UnmarshalBinary(payload); err != nil {
		return nil, err
	}
	return m, nil
}
