package syncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Frame layout, every protocol version:
//
//	frame = version:byte type:byte length:uvarint payload:length
//
// The length is a minimal uvarint and at most the type's limit (MaxFrame;
// a whole HELLO frame is at most MaxHelloFrame bytes; DONE has an empty
// payload; ACK and ERROR are a few hundred bytes at most).

// maxLenBytes is the longest uvarint of a length up to MaxFrame.
const maxLenBytes = 4

// readChunk bounds how much ReadFrame allocates ahead of the bytes it has
// actually received: a frame up to it is read into one allocation of its
// size, a longer one grows as its bytes arrive. It is the size of a full
// DELTA at the default batch size (with its framing), so catching up
// costs no regrowing.
const readChunk = DefaultMaxBatchBytes + 64<<10

// Codec reads and writes the frames of one protocol version. The zero
// Codec speaks the newest, Version. A Codec is a small value, safe to copy
// and to use concurrently.
type Codec struct{ version uint8 }

// NewCodec returns the codec of protocol version v.
func NewCodec(v uint8) (Codec, error) {
	if v < MinVersion || v > Version {
		return Codec{}, fmt.Errorf("syncproto: protocol version %d: this build speaks %d to %d", v, MinVersion, Version)
	}
	return Codec{version: v}, nil
}

// Version is the codec's protocol version.
func (c Codec) Version() uint8 {
	if c.version == 0 {
		return Version
	}
	return c.version
}

// AppendFrame appends m's frame to b in the newest protocol version.
func AppendFrame(b []byte, m Message) ([]byte, error) { return Codec{}.AppendFrame(b, m) }

// WriteFrame writes m as one frame of the newest protocol version.
func WriteFrame(w io.Writer, m Message) error { return Codec{}.WriteFrame(w, m) }

// ReadFrame reads one frame of the newest protocol version; see
// Codec.ReadFrame.
func ReadFrame(r io.Reader) (Message, error) { return Codec{}.ReadFrame(r) }

// DecodeFrame decodes b, one frame of the newest protocol version.
func DecodeFrame(b []byte) (Message, error) { return Codec{}.DecodeFrame(b) }

// FrameSize is the number of bytes m takes on the wire in the newest
// protocol version, header included.
func FrameSize(m Message) int { return Codec{}.FrameSize(m) }

// AppendFrame appends m's frame to b. It fails if m cannot be encoded in
// this version or exceeds its type's size limit.
func (c Codec) AppendFrame(b []byte, m Message) ([]byte, error) {
	if m == nil {
		return b, errors.New("syncproto: nil message")
	}
	limit, ok := maxPayload(m.Type())
	if !ok {
		return b, fmt.Errorf("syncproto: unknown message type %d", m.Type())
	}
	v := c.Version()
	p, err := payload(m, v)
	if err != nil {
		return b, err
	}
	if len(p) > limit {
		return b, fmt.Errorf("syncproto: %s payload of %d bytes exceeds %d", m.Type(), len(p), limit)
	}
	b = slices.Grow(b, 2+maxLenBytes+len(p))
	return append(appendHeader(b, v, m.Type(), len(p)), p...), nil
}

// appendHeader appends a frame header: version, type, payload length.
func appendHeader(b []byte, v uint8, t Type, n int) []byte {
	return binary.AppendUvarint(append(b, v, byte(t)), uint64(n))
}

// WriteFrame writes m as one frame: with a single Write call, or for a
// payload of bigWrite bytes or more (a DELTA) with one for the header and
// one for the payload, which it does not copy (callers write to a
// buffered writer).
func (c Codec) WriteFrame(w io.Writer, m Message) error {
	if d, ok := m.(*Delta); ok && len(d.enc) >= bigWrite && d.encV == c.Version() {
		if len(d.enc) > MaxFrame {
			return fmt.Errorf("syncproto: DELTA payload of %d bytes exceeds %d", len(d.enc), MaxFrame)
		}
		if _, err := w.Write(appendHeader(nil, d.encV, TypeDelta, len(d.enc))); err != nil {
			return fmt.Errorf("syncproto: write DELTA frame: %w", err)
		}
		if _, err := w.Write(d.enc); err != nil {
			return fmt.Errorf("syncproto: write DELTA frame: %w", err)
		}
		return nil
	}
	frame, err := c.AppendFrame(nil, m)
	if err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("syncproto: write %s frame: %w", m.Type(), err)
	}
	return nil
}

// bigWrite is the payload size from which WriteFrame writes the payload
// without copying it into a frame buffer.
const bigWrite = 64 << 10

// ReadFrame reads exactly one frame from r and decodes it. It checks the
// version (the codec's), the type and the declared length against the
// type's limit before allocating, and never allocates much more than the
// bytes actually received. It returns io.EOF if r ends cleanly before the
// frame; errors about the frame's contents (including a frame cut short)
// wrap ErrMalformed; errors from r are returned wrapped.
func (c Codec) ReadFrame(r io.Reader) (Message, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, readError(err)
	}
	v := c.Version()
	if hdr[0] != v {
		return nil, fmt.Errorf("%w: protocol version %d, want %d", ErrMalformed, hdr[0], v)
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
	return decodePayload(v, t, payload)
}

// FrameSize is the number of bytes m takes on the wire, header included
// (0 payload bytes if m cannot be encoded in this version).
func (c Codec) FrameSize(m Message) int {
	n := payloadLen(m, c.Version())
	return 2 + uvarintLen(uint64(n)) + n
}

// DecodeFrame decodes b, which must hold exactly one frame.
func (c Codec) DecodeFrame(b []byte) (Message, error) {
	r := bytes.NewReader(b)
	m, err := c.ReadFrame(r)
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

// decodePayload decodes the payload of a frame of type t in version v.
func decodePayload(v uint8, t Type, payload []byte) (Message, error) {
	var m interface {
		Message
		UnmarshalBinary([]byte) error
	}
	switch t {
	case TypeHello:
		h := new(Hello)
		if err := h.decode(payload, v); err != nil {
			return nil, err
		}
		return h, nil
	case TypeSyncReq:
		m = new(SyncReq)
	case TypeDelta:
		d := new(Delta)
		if err := d.decode(payload, v); err != nil {
			return nil, err
		}
		return d, nil
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
