package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FuzzCheck validates arbitrary payloads against the door registry:
// Check never panics, is deterministic, accepts only valid JSON, and a
// failure is an *Error whose pointer is a JSON pointer.
func FuzzCheck(f *testing.F) {
	for _, p := range []string{
		`{"door":"north","value":1}`, `{"door":"north","value":"x"}`, `{"value":1}`, `{"door":"north","by":{"name":7}}`,
		`{"door":"south","tags":["a",2],"a/b~c":1.5}`, `{`, `[]`, `{"door":"north","at":"2025-13-01T00:00:00Z"}`, ``,
	} {
		f.Add(p, uint8(1))
		f.Add(p, uint8(2))
	}
	r := mustParse(f, doorRegistry)
	f.Fuzz(func(t *testing.T, payload string, version uint8) {
		err := r.Check("door.open", uint32(version), []byte(payload))
		again := r.Check("door.open", uint32(version), []byte(payload))
		if (err == nil) != (again == nil) || err != nil && err.Error() != again.Error() {
			t.Fatalf("Check is not deterministic: %v, then %v", err, again)
		}
		if err == nil {
			if payload != "" && r.Has("door.open", uint32(version)) && !json.Valid([]byte(payload)) {
				t.Fatalf("invalid JSON %q passed", payload)
			}
			return
		}
		var se *Error
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v is not a *schema.Error", err)
		}
		if se.Pointer != "" && !strings.HasPrefix(se.Pointer, "/") {
			t.Fatalf("pointer %q is not a JSON pointer", se.Pointer)
		}
		if se.Reason == "" {
			t.Fatal("error without a reason")
		}
	})
}

// FuzzDecodeValid checks the one-pass decoder against the library's own
// (encoding/json with numbers kept exact) on every valid JSON input.
func FuzzDecodeValid(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,"x\"y",true,false,null,{}],"b":{"c":"\u00e9\n"}}`, ` [ ] `, `"s"`, `0`, `{"":{"":[[]]}}`,
		`{"a":1,"a":2}`, `{"\ud83d\ude00":"\ud800"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		got, err := decodeValid([]byte(s))
		want, werr := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeValid(%q) = %#v, %v; want %#v, %v", s, got, err, want, werr)
		}
	})
}
