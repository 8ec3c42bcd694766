package syncproto

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// seedFrames returns the frame of every sample message.
func seedFrames(f *testing.F) map[Type][][]byte {
	out := make(map[Type][][]byte)
	for _, m := range sampleMessages(f) {
		b, err := AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		out[m.Type()] = append(out[m.Type()], b)
	}
	return out
}

func FuzzReadFrame(f *testing.F) {
	var all []byte
	for _, frames := range seedFrames(f) {
		for _, b := range frames {
			f.Add(b)
			all = append(all, b...)
		}
	}
	f.Add(all)
	f.Add([]byte{Version, byte(TypeDelta), 0xff, 0xff, 0xff, 0x07})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		for {
			m, err := ReadFrame(r)
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			again, err := AppendFrame(nil, m)
			if err != nil {
				t.Fatalf("decoded %s does not encode: %v", m.Type(), err)
			}
			m2, err := DecodeFrame(again)
			if err != nil {
				t.Fatalf("re-encoded %s does not decode: %v", m.Type(), err)
			}
			if again2, _ := AppendFrame(nil, m2); !bytes.Equal(again, again2) {
				t.Fatalf("%s re-encoding is not stable", m.Type())
			}
		}
	})
}

// fuzzPayload checks a payload decoder: errors wrap ErrMalformed, and what
// decodes re-encodes to the same bytes.
func fuzzPayload[M interface {
	*T
	Message
	UnmarshalBinary([]byte) error
}, T any](f *testing.F, typ Type) {
	for _, b := range seedFrames(f)[typ] {
		m, err := DecodeFrame(b)
		if err != nil {
			f.Fatal(err)
		}
		p, _ := m.MarshalBinary()
		f.Add(p)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := M(new(T))
		if err := m.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs (%v):\n in  %x\n out %x", err, b, again)
		}
	})
}

func FuzzDecodeHello(f *testing.F)   { fuzzPayload[*Hello](f, TypeHello) }
func FuzzDecodeSyncReq(f *testing.F) { fuzzPayload[*SyncReq](f, TypeSyncReq) }
func FuzzDecodeDelta(f *testing.F)   { fuzzPayload[*Delta](f, TypeDelta) }
func FuzzDecodeDone(f *testing.F)    { fuzzPayload[*Done](f, TypeDone) }
func FuzzDecodeAck(f *testing.F)     { fuzzPayload[*Ack](f, TypeAck) }
func FuzzDecodeError(f *testing.F)   { fuzzPayload[*Error](f, TypeError) }
