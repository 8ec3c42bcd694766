package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

// seedEvents returns valid encodings to start the event fuzzers from.
func seedEvents(f *testing.F) [][]byte {
	key, origin := testKey(f, 20)
	chain, _ := buildChain(f, key, origin, 3)
	out := [][]byte{
		sampleEvent(f).AppendBinary(nil),
		(&Event{ID: testID(1), Device: "d", Seq: 1, Type: "t"}).AppendBinary(nil),
		(&Event{ID: testID(2), Device: origin, Seq: math.MaxUint64, TS: math.MinInt64,
			Type: "x", Schema: math.MaxUint32, Payload: json.RawMessage(`{"a":[1]}`), Prev: Hash{9}}).AppendBinary(nil),
	}
	for _, e := range chain {
		out = append(out, e.AppendBinary(nil))
	}
	return out
}

func FuzzUnmarshalEvent(f *testing.F) {
	for _, b := range seedEvents(f) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{encodingVersion})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sameThroughDecoder(t, b)
		var e Event
		if err := e.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if _, err := Decode(b); err == nil {
				t.Fatal("Decode accepted what UnmarshalBinary rejects")
			}
			return
		}
		if re := e.AppendBinary(nil); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, re)
		}
		if e.Validate() == nil {
			if _, err := Decode(b); err != nil {
				t.Fatalf("Decode rejects a valid event: %v", err)
			}
			_ = e.ToJSON()
			if out, changed, err := Erased(b); err != nil || (e.Redacted() && (changed || out != nil)) {
				t.Fatalf("erasing a valid event: changed %v, %v", changed, err)
			} else if !e.Redacted() {
				if len(out) != len(b) {
					t.Fatalf("erased form of %d bytes for %d", len(out), len(b))
				}
				if _, err := Decode(out); err != nil {
					t.Fatalf("the erased form does not decode: %v", err)
				}
			}
		}
	})
}

func FuzzParseInput(f *testing.F) {
	c := testCID(f, "seed").String()
	for _, s := range []string{
		`{"type":"click"}`,
		`{"type":"view","ts":1700000000123,"schema":3,"payload":{"a":1,"b":[true,null]},"blobs":["` + c + `"]}`,
		"{ \"type\" : \"x\", \"payload\" : { \"a\" : \"b c\" } }\n",
		`{"type":"x","ts":1.7e12,"schema":null,"payload":null,"blobs":null}`,
		`{"type":"x","ts":"1"}`,
		`{"type":"x"}}`,
		`{"type":"x","payload":{"a":"\u00e9\ud83d\ude00<>&"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseInput(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if in.Type == "" || len(in.Type) > MaxTypeLen {
			t.Fatalf("accepted type of %d bytes", len(in.Type))
		}
		p := in.Payload
		if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
			t.Fatalf("accepted payload %q is not a JSON object", p)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, p); err != nil || !bytes.Equal(compact.Bytes(), p) {
			t.Fatalf("accepted payload %q is not compact", p)
		}
		if !in.HasTS && in.TS != 0 {
			t.Fatal("ts set without HasTS")
		}
		for _, c := range in.Blobs {
			if !c.Defined() || c.Version() != 1 {
				t.Fatalf("accepted blob %v", c)
			}
		}
		// Whatever ParseInput accepts makes a valid event that round-trips.
		e := &Event{ID: testID(1), Device: "d", Seq: 1, TS: in.TS, Type: in.Type,
			Schema: in.Schema, Payload: in.Payload, Blobs: in.Blobs}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted input makes an invalid event: %v", err)
		}
		if _, err := Decode(e.AppendBinary(nil)); err != nil {
			t.Fatalf("accepted input does not round-trip: %v", err)
		}
		// Parsing is idempotent through the event's JSON form.
		var again bytes.Buffer
		enc := json.NewEncoder(&again)
		enc.SetEscapeHTML(false) // keep the payload byte for byte
		err = enc.Encode(map[string]any{"type": in.Type, "schema": in.Schema, "payload": in.Payload, "blobs": e.ToJSON().Blobs})
		if err != nil {
			t.Fatal(err)
		}
		in2, err := ParseInput(again.Bytes())
		if err != nil || in2.Type != in.Type || in2.Schema != in.Schema || !bytes.Equal(in2.Payload, in.Payload) || len(in2.Blobs) != len(in.Blobs) {
			t.Fatalf("re-parse of %s: %+v, %v", again.Bytes(), in2, err)
		}
	})
}

func FuzzUnmarshalSeal(f *testing.F) {
	key, origin := testKey(f, 21)
	for _, seq := range []uint64{1, 300, math.MaxUint64} {
		s, err := NewSeal(key, origin, seq, Hash{byte(seq)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.AppendBinary(nil))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Seal
		if err := s.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if s.Seq == 0 || len(s.Sig) != 64 || len(s.Origin) > MaxDeviceLen {
			t.Fatalf("accepted seal %+v", s)
		}
		if re := s.AppendBinary(nil); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, re)
		}
		if err := s.Verify(); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Verify error %v does not wrap ErrInvalid", err)
		}
	})
}

// FuzzParseInputPaths checks the fast path against encoding/json: whenever
// the fast path takes an input, the slow path must reach the same result.
func FuzzParseInputPaths(f *testing.F) {
	f.Add([]byte(`{"type":"a","ts":12,"schema":2,"payload":{"v":[1,{"x":"}"}]},"blobs":[]}`))
	f.Add([]byte(`{"type":"a","payload":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, ok := splitInput(b)
		if !ok {
			return
		}
		fast, ferr := w.input()
		slow, serr := parseInputSlow(b)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%q: fast err %v, slow err %v", b, ferr, serr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, slow %+v", b, fast, slow)
		}
	})
}

// sameThroughDecoder checks that a Decoder, fresh or having decoded b
// before, decodes b as Decode does.
func sameThroughDecoder(t *testing.T, b []byte) {
	t.Helper()
	want, werr := Decode(b)
	var dec Decoder
	for range 2 {
		got, err := dec.Decode(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Decoder: %v, Decode: %v", err, werr)
		}
		if err == nil && !bytes.Equal(got.AppendBinary(nil), want.AppendBinary(nil)) {
			t.Fatal("Decoder and Decode decode differently")
		}
	}
}
