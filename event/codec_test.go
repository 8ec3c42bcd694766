package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/ipfs/go-cid"
)

func TestCodecRoundTrip(t *testing.T) {
	full := sampleEvent(t)
	noBlobs := clone(full)
	noBlobs.Blobs = nil
	bare := &Event{ID: testID(1), Device: "d", Seq: 1, Type: "t"}
	extreme := &Event{
		ID: testID(2), Device: strings.Repeat("d", MaxDeviceLen), Seq: math.MaxUint64,
		TS: math.MinInt64, Type: strings.Repeat("t", MaxTypeLen), Schema: math.MaxUint32,
		Payload: json.RawMessage(`{}`), Prev: Hash{31: 0xff},
	}
	for name, e := range map[string]*Event{"full": full, "no blobs": noBlobs, "no payload or blobs": bare, "extreme": extreme} {
		t.Run(name, func(t *testing.T) {
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Event
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&got, e) {
				t.Fatalf("got  %+v\nwant %+v", got, *e)
			}
			if got.Hash() != e.Hash() {
				t.Fatal("hash changed across the round trip")
			}
		})
	}
}

func TestCodecDeterministic(t *testing.T) {
	e := sampleEvent(t)
	a := e.AppendBinary(nil)
	if b := clone(e).AppendBinary(nil); !bytes.Equal(a, b) {
		t.Fatal("equal events encode differently")
	}
	prefix := []byte("prefix")
	if b := e.AppendBinary(prefix); !bytes.Equal(b[:len(prefix)], prefix) || !bytes.Equal(b[len(prefix):], a) {
		t.Fatal("AppendBinary does not append")
	}
	// nil and empty slices are the same event on the wire.
	x, y := clone(e), clone(e)
	x.Payload, x.Blobs = nil, nil
	y.Payload, y.Blobs = json.RawMessage{}, []cid.Cid{}
	if !bytes.Equal(x.AppendBinary(nil), y.AppendBinary(nil)) {
		t.Fatal("nil and empty slices encode differently")
	}
	if a[0] != encodingVersion {
		t.Fatalf("version byte %d", a[0])
	}
}

func TestHashCoversEveryField(t *testing.T) {
	mutations := map[string]func(*Event){
		"id":         func(e *Event) { e.ID[15] ^= 1 },
		"device":     func(e *Event) { e.Device += "x" },
		"seq":        func(e *Event) { e.Seq++ },
		"ts":         func(e *Event) { e.TS-- },
		"type":       func(e *Event) { e.Type = "page.viex" },
		"schema":     func(e *Event) { e.Schema++ },
		"payload":    func(e *Event) { e.Payload = json.RawMessage(`{"path":"/b","n":[1,2,{"x":null}]}`) },
		"no payload": func(e *Event) { e.Payload = nil },
		"blob":       func(e *Event) { e.Blobs[1] = testCID(t, "blob-3") },
		"blob order": func(e *Event) { e.Blobs[0], e.Blobs[1] = e.Blobs[1], e.Blobs[0] },
		"no blobs":   func(e *Event) { e.Blobs = nil },
		"prev":       func(e *Event) { e.Prev[31] ^= 0x80 },
		// Moving a byte between adjacent length-prefixed fields must not collide.
		"device/type boundary": func(e *Event) { e.Device, e.Type = e.Device+"p", "age.view" },
	}
	base := sampleEvent(t)
	h := base.Hash()
	if h.IsZero() || h.String() != strings.ToLower(h.String()) || len(h.String()) != 64 {
		t.Fatalf("odd hash %s", h)
	}
	for name, mutate := range mutations {
		e := clone(base)
		mutate(e)
		if e.Hash() == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}

// pieces splits e's canonical encoding into its parts so that a test can
// replace one. The indexes are named by the constants below.
func pieces(e *Event) [][]byte {
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	p := [][]byte{
		{encodingVersion}, e.ID[:], uv(uint64(len(e.Device))), []byte(e.Device), uv(e.Seq),
		binary.AppendVarint(nil, e.TS), uv(uint64(len(e.Type))), []byte(e.Type), uv(uint64(e.Schema)),
		uv(uint64(len(e.Payload))), e.Payload, uv(uint64(len(e.Blobs))),
	}
	for _, c := range e.Blobs {
		p = append(p, uv(uint64(c.ByteLen())), c.Bytes())
	}
	return append(p, e.Prev[:])
}

const (
	pVersion, pID, pDeviceLen, pDevice, pSeq, pTS, pTypeLen, pType, pSchema = 0, 1, 2, 3, 4, 5, 6, 7, 8
	pPayloadLen, pPayload, pBlobCount, pCID0Len, pCID0                      = 9, 10, 11, 12, 13
)

func join(p [][]byte) []byte { return bytes.Join(p, nil) }

// replaced returns e's encoding with piece i replaced by repl.
func replaced(e *Event, i int, repl []byte) []byte {
	p := pieces(e)
	p[i] = repl
	return join(p)
}

// padded returns a non-canonical encoding of the varint v: one more byte.
func padded(v []byte) []byte {
	out := append([]byte(nil), v...)
	out[len(out)-1] |= 0x80
	return append(out, 0)
}

// wantRejected checks that b does not decode and leaves the target as it was.
func wantRejected(t *testing.T, b []byte, words ...string) {
	t.Helper()
	target := sampleEvent(t)
	err := target.UnmarshalBinary(b)
	wantInvalid(t, err, words...)
	if !reflect.DeepEqual(target, sampleEvent(t)) {
		t.Fatalf("failed decode modified the target: %+v", target)
	}
	if _, err := Decode(b); err == nil {
		t.Fatal("Decode accepted what UnmarshalBinary rejects")
	}
}

func TestPiecesMatchEncoding(t *testing.T) {
	e := sampleEvent(t)
	if !bytes.Equal(join(pieces(e)), e.AppendBinary(nil)) {
		t.Fatal("test encoder disagrees with AppendBinary")
	}
}

func TestUnmarshalTruncated(t *testing.T) {
	for name, e := range map[string]*Event{"full": sampleEvent(t), "bare": {ID: testID(1), Device: "d", Seq: 1, Type: "t"}} {
		b := e.AppendBinary(nil)
		for i := range b {
			t.Run(name, func(t *testing.T) { wantRejected(t, b[:i]) })
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	e := sampleEvent(t)
	enc := e.AppendBinary(nil)
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"trailing byte", append(append([]byte(nil), enc...), 0), "trailing"},
		{"trailing bytes", append(append([]byte(nil), enc...), enc...), "trailing"},
		{"version 0", replaced(e, pVersion, []byte{0}), "version"},
		{"version 3", replaced(e, pVersion, []byte{3}), "version"},
		{"version 0xff", replaced(e, pVersion, []byte{0xff}), "version"},
		{"padded device length", replaced(e, pDeviceLen, padded(uv(uint64(len(e.Device))))), "varint"},
		{"padded seq", replaced(e, pSeq, padded(uv(e.Seq))), "varint"},
		{"padded ts", replaced(e, pTS, padded(binary.AppendVarint(nil, e.TS))), "varint"},
		{"padded type length", replaced(e, pTypeLen, padded(uv(uint64(len(e.Type))))), "varint"},
		{"padded schema", replaced(e, pSchema, padded(uv(uint64(e.Schema)))), "varint"},
		{"padded payload length", replaced(e, pPayloadLen, padded(uv(uint64(len(e.Payload))))), "varint"},
		{"padded blob count", replaced(e, pBlobCount, padded(uv(2))), "varint"},
		{"padded cid length", replaced(e, pCID0Len, padded(uv(uint64(e.Blobs[0].ByteLen())))), "varint"},
		{"zero padded to 10 bytes", replaced(e, pSeq, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0}), "varint"},
		{"varint overflow", replaced(e, pSeq, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}), "varint"},
		{"varint 11 bytes", replaced(e, pSeq, append(bytes.Repeat([]byte{0x80}, 10), 1)), "varint"},
		{"device too long", replaced(e, pDeviceLen, uv(MaxDeviceLen+1)), "device"},
		{"type too long", replaced(e, pTypeLen, uv(MaxTypeLen+1)), "type"},
		{"payload too long", replaced(e, pPayloadLen, uv(MaxPayloadLen+1)), "payload"},
		{"huge length", replaced(e, pPayloadLen, uv(math.MaxUint64)), "payload"},
		{"length past end", replaced(e, pPayloadLen, uv(uint64(len(enc)))), "truncated"},
		{"schema above uint32", replaced(e, pSchema, uv(1<<32)), "schema"},
		{"too many blobs", replaced(e, pBlobCount, uv(MaxBlobs+1)), "blobs"},
		{"cid too long", replaced(e, pCID0Len, uv(MaxCIDLen+1)), "cid"},
		{"cid garbage", replaced(e, pCID0, bytes.Repeat([]byte{0xff}, e.Blobs[0].ByteLen())), "cid"},
		{"cid trailing byte", func() []byte {
			p := pieces(e)
			p[pCID0Len], p[pCID0] = uv(uint64(e.Blobs[0].ByteLen()+1)), append(e.Blobs[0].Bytes(), 0)
			return join(p)
		}(), "cid"},
		{"cid empty", func() []byte {
			p := pieces(e)
			p[pCID0Len], p[pCID0] = uv(0), nil
			return join(p)
		}(), "cid"},
		{"over MaxEncodedLen", append(append([]byte(nil), enc...), make([]byte, MaxEncodedLen)...), "exceeds"},
		{"empty", nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantRejected(t, tt.b, tt.want) })
	}
}

func TestUnmarshalDoesNotAlias(t *testing.T) {
	e := sampleEvent(t)
	b := e.AppendBinary(nil)
	var got Event
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xAA
	}
	if !reflect.DeepEqual(&got, e) {
		t.Fatal("decoded event shares memory with its input")
	}
}

func TestDecode(t *testing.T) {
	e := sampleEvent(t)
	got, err := Decode(e.AppendBinary(nil))
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	bad := clone(e)
	bad.Seq = 0 // decodes, but does not validate
	got, err = Decode(bad.AppendBinary(nil))
	wantInvalid(t, err, "seq")
	if got != nil {
		t.Fatal("Decode returned an event with its error")
	}
}

func TestEncodedLenMatchesEncoding(t *testing.T) {
	for _, e := range []*Event{sampleEvent(t), {Device: "d", Seq: 1 << 40, TS: -5, Type: "t"}} {
		if got, want := e.EncodedLen(), len(e.AppendBinary(nil)); got != want {
			t.Fatalf("EncodedLen %d, encoding %d", got, want)
		}
	}
}

// TestDecoderSharesStrings: a Decoder gives the events of a run the same
// fields as Decode, sharing their device and type strings.
func TestDecoderSharesStrings(t *testing.T) {
	var encs [][]byte
	for i, dev := range []string{"dev-a", "dev-a", "dev-b", "dev-a"} {
		e := &Event{ID: NewID(int64(1000+i), 0, [8]byte{}), Device: dev, Seq: uint64(i + 2), TS: 5,
			Type: []string{"t1", "t1", "t2", "t2"}[i], Schema: 1, Payload: []byte(`{"v":1}`), Prev: Hash{1}}
		encs = append(encs, e.AppendBinary(nil))
	}
	var dec Decoder
	var got []*Event
	for _, b := range encs {
		e, err := dec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Decode(b)
		if e.Device != want.Device || e.Type != want.Type || e.Seq != want.Seq || string(e.Payload) != string(want.Payload) {
			t.Fatalf("Decoder gave %+v, Decode %+v", e, want)
		}
		got = append(got, e)
	}
	if unsafe.StringData(got[0].Device) != unsafe.StringData(got[1].Device) ||
		unsafe.StringData(got[0].Type) != unsafe.StringData(got[1].Type) {
		t.Fatal("consecutive equal strings are not shared")
	}
	if cap(got[0].Payload) != len(got[0].Payload) {
		t.Fatal("an aliased payload can be appended to in place")
	}
}

// Decoders share one string per device id, across Decoders and frames.
func TestDecodersShareDeviceStrings(t *testing.T) {
	e := sampleEvent(t)
	b := e.AppendBinary(nil)
	var d1, d2 Decoder
	x, err := d1.Decode(append([]byte(nil), b...))
	if err != nil {
		t.Fatal(err)
	}
	y, err := d2.Decode(append([]byte(nil), b...))
	if err != nil {
		t.Fatal(err)
	}
	if x.Device != e.Device || unsafe.StringData(x.Device) != unsafe.StringData(y.Device) {
		t.Fatalf("device strings %q and %q not shared", x.Device, y.Device)
	}
}
