package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// redactedChain returns a sealed chain of 5 events of one origin, and a
// redaction of its third event signed by its origin.
func redactedChain(t testing.TB) ([]*Event, Seal, *Redaction, func(string) bool) {
	t.Helper()
	key, origin := testKey(t, 31)
	events, seal := buildChain(t, key, origin, 5)
	r, err := NewRedaction(key, origin, events[2], 1_800_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return events, seal, r, nil
}

func TestRedactionSignAndCheck(t *testing.T) {
	events, _, r, _ := redactedChain(t)
	if err := r.Check(nil); err != nil {
		t.Fatalf("own redaction rejected: %v", err)
	}
	if !r.Targets(events[2]) || r.Targets(events[1]) {
		t.Fatal("Targets does not single out the redacted event")
	}
	opKey, op := testKey(t, 32)
	byOp, err := NewRedaction(opKey, op, events[2], 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := byOp.Check(nil); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("another device's redaction without operators: %v, want ErrNotAllowed", err)
	}
	if err := byOp.Check(func(d string) bool { return d == op }); err != nil {
		t.Fatalf("operator's redaction rejected: %v", err)
	}
	tampered := []func(r *Redaction){
		func(r *Redaction) { r.Seq++ },
		func(r *Redaction) { r.TS++ },
		func(r *Redaction) { r.Type = "other" },
		func(r *Redaction) { r.Hash[0] ^= 1 },
		func(r *Redaction) { r.Prev[5] ^= 1 },
		func(r *Redaction) { r.At++ },
		func(r *Redaction) { r.Sig = append([]byte(nil), r.Sig...); r.Sig[0] ^= 1 },
		func(r *Redaction) { r.Redactor = op }, // claims another signer
	}
	for i, f := range tampered {
		c := *r
		f(&c)
		if err := c.Check(func(string) bool { return true }); !errors.Is(err, ErrInvalid) {
			t.Errorf("tampering %d: Check = %v, want ErrInvalid", i, err)
		}
	}
	if _, err := NewRedaction(opKey, op, r.Stub(), 1); err == nil {
		t.Fatal("redacting a redacted event succeeded")
	}
	re := &Event{ID: testID(99), Device: op, Seq: 1, Type: RedactionType, Payload: json.RawMessage(`{}`)}
	if _, err := NewRedaction(opKey, op, re, 1); err == nil {
		t.Fatal("redacting a redaction event succeeded")
	}
}

// TestRedactedChainVerifies: a run with a redacted event in the middle
// still verifies against the original seal, since the redacted form keeps
// the original's hash and Prev.
func TestRedactedChainVerifies(t *testing.T) {
	events, seal, r, _ := redactedChain(t)
	run := append([]*Event(nil), events...)
	run[2] = r.Stub()
	if err := run[2].Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRange(Hash{}, run, &seal); err != nil {
		t.Fatalf("redacted run does not verify: %v", err)
	}
	forged := *r
	forged.Hash[0] ^= 1
	run[2] = forged.Stub()
	if _, err := VerifyRange(Hash{}, run, &seal); err == nil {
		t.Fatal("a redaction with the wrong hash verified in the chain")
	}
}

func TestRedactedEncoding(t *testing.T) {
	_, _, r, _ := redactedChain(t)
	stub := r.Stub()
	enc := stub.AppendBinary(nil)
	if enc[0] != redactedVersion || len(enc) != stub.EncodedLen() {
		t.Fatalf("encoding starts with %d, length %d, EncodedLen %d", enc[0], len(enc), stub.EncodedLen())
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Redacted() || got.Hash() != r.Hash || got.Redaction.Redactor != r.Redactor || string(got.Payload) != "{}" {
		t.Fatalf("decoded %+v", got)
	}
	if !bytes.Equal(got.AppendBinary(nil), enc) {
		t.Fatal("re-encoding differs")
	}
	j := got.ToJSON()
	if !j.Redacted || j.RedactedBy != r.Redactor || j.RedactedAt != r.At || len(j.Blobs) != 0 {
		t.Fatalf("JSON %+v", j)
	}
	bad := *stub
	bad.TS++
	if err := bad.Validate(); err == nil {
		t.Fatal("a redacted event that differs from its redaction validated")
	}
	bad = *stub
	bad.Payload = json.RawMessage(`{"a":1}`)
	if err := bad.Validate(); err == nil {
		t.Fatal("a redacted event with a payload validated")
	}
	var r2 Redaction
	if err := r2.UnmarshalBinary(append(r.AppendBinary(nil), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if err := r2.UnmarshalBinary(r.AppendBinary(nil)); err != nil || r2.Hash != r.Hash {
		t.Fatalf("round trip: %v", err)
	}
}

func TestRedactionPayload(t *testing.T) {
	events, _, r, _ := redactedChain(t)
	in := r.Input()
	if in.Type != RedactionType || !in.HasTS || in.TS != r.At {
		t.Fatalf("input %+v", in)
	}
	e := &Event{ID: testID(50), Device: r.Redactor, Seq: 6, TS: r.At, Type: RedactionType,
		Schema: 1, Payload: in.Payload, Prev: events[4].Hash()}
	got, err := RedactionOf(e)
	if err != nil {
		t.Fatal(err)
	}
	if got.Check(nil) != nil || !got.Targets(events[2]) {
		t.Fatal("parsed redaction does not check out")
	}
	other := *e
	other.Device = events[0].Device + "x"
	if _, err := RedactionOf(&other); err == nil {
		t.Fatal("redaction inside another device's event accepted")
	}
	p := string(in.Payload)
	for name, bad := range map[string]string{
		"spaces":        strings.Replace(p, `,"seq"`, `, "seq"`, 1),
		"unknown field": strings.Replace(p, `{`, `{"x":1,`, 1),
		"missing sig":   p[:strings.Index(p, `,"sig"`)] + "}",
		"short hash":    strings.Replace(p, `"hash":"`, `"hash":"0`, 1),
		"bad uuid":      strings.Replace(p, `"event_id":"`, `"event_id":"z`, 1),
		"not json":      "{",
		"trailing":      p + " {}",
		"huge":          `{"type":"` + strings.Repeat("a", maxRedactionJSON) + `"}`,
	} {
		if _, err := ParseRedaction([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzUnmarshalRedaction(f *testing.F) {
	_, _, r, _ := redactedChain(f)
	f.Add(r.AppendBinary(nil))
	f.Add(r.Stub().AppendBinary(nil))
	f.Add([]byte{redactedVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Redaction
		if err := got.UnmarshalBinary(b); err == nil {
			if !bytes.Equal(got.AppendBinary(nil), b) {
				t.Fatal("redaction re-encoding differs")
			}
			if got.Validate() != nil {
				t.Fatal("decoded redaction does not validate")
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		var e Event
		if err := e.UnmarshalBinary(b); err == nil {
			if !bytes.Equal(e.AppendBinary(nil), b) {
				t.Fatal("event re-encoding differs")
			}
			if e.Redacted() && e.Validate() != nil {
				t.Fatal("decoded redacted event does not validate")
			}
		}
	})
}

func FuzzParseRedaction(f *testing.F) {
	_, _, r, _ := redactedChain(f)
	f.Add([]byte(r.Payload()))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"device_id":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseRedaction(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !bytes.Equal(got.Payload(), b) || got.Validate() != nil {
			t.Fatal("accepted a non-canonical or invalid redaction")
		}
	})
}
