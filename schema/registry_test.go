package schema

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const doorRegistry = `{
  "door.open": {
    "1": {"type": "object", "required": ["door"], "additionalProperties": false,
          "properties": {"door": {"type": "string", "enum": ["north", "south"]},
                         "value": {"type": "number", "minimum": 0},
                         "at": {"type": "string", "format": "date-time"},
                         "tags": {"type": "array", "items": {"type": "string"}},
                         "a/b~c": {"type": "integer"}}},
    "2": {"type": "object", "required": ["door", "by"],
          "properties": {"by": {"$ref": "#/$defs/person"}},
          "$defs": {"person": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}
  },
  "anything": {"1": true},
  "never": {"7": false}
}`

func mustParse(t testing.TB, s string) *Registry {
	t.Helper()
	r, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheck(t *testing.T) {
	r := mustParse(t, doorRegistry)
	if r.Len() != 4 || !r.Has("door.open", 2) || r.Has("door.open", 3) {
		t.Fatalf("registry holds %d schemas", r.Len())
	}
	tests := []struct {
		name    string
		typ     string
		version uint32
		payload string
		pointer string // "" with reason "" means valid
		reason  string
	}{
		{"valid", "door.open", 1, `{"door":"north","value":1.5}`, "", ""},
		{"valid with all", "door.open", 1, `{"door":"south","at":"2025-11-25T10:00:00Z","tags":["a"],"a/b~c":3}`, "", ""},
		{"wrong type", "door.open", 1, `{"door":"north","value":"high"}`, "/value", "want number"},
		{"below minimum", "door.open", 1, `{"door":"north","value":-1}`, "/value", "minimum"},
		{"not in enum", "door.open", 1, `{"door":"east"}`, "/door", "one of"},
		{"missing required", "door.open", 1, `{"value":1}`, "/door", "missing property"},
		{"additional property", "door.open", 1, `{"door":"north","colour":"red"}`, "/colour", "colour"},
		{"bad format", "door.open", 1, `{"door":"north","at":"yesterday"}`, "/at", "date-time"},
		{"array item", "door.open", 1, `{"door":"north","tags":["a",2]}`, "/tags/1", "want string"},
		{"escaped pointer", "door.open", 1, `{"door":"north","a/b~c":1.5}`, "/a~1b~0c", "integer"},
		{"empty payload", "door.open", 1, ``, "/door", "missing property"},
		{"nested ref", "door.open", 2, `{"door":"north","by":{"name":7}}`, "/by/name", "want string"},
		{"nested required", "door.open", 2, `{"door":"north","by":{}}`, "/by/name", "missing"},
		{"version without schema", "door.open", 3, `{"anything":true}`, "", ""},
		{"type without schema", "window.open", 1, `{"door":5}`, "", ""},
		{"true schema", "anything", 1, `{"x":[1,2,{}]}`, "", ""},
		{"false schema", "never", 7, `{}`, "", "false"},
		{"big integer kept exact", "door.open", 1, `{"door":"north","a/b~c":123456789012345678901234567890}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Check(tt.typ, tt.version, []byte(tt.payload))
			if tt.reason == "" && tt.pointer == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Check = %v, want a *schema.Error", err)
			}
			if se.Pointer != tt.pointer || !strings.Contains(se.Reason, tt.reason) || se.Type != tt.typ || se.Version != tt.version {
				t.Fatalf("Check = %+v, want pointer %q and a reason with %q", se, tt.pointer, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.typ) {
				t.Fatalf("message %q does not name the type", err)
			}
		})
	}
}

func TestNilRegistryPassesEverything(t *testing.T) {
	var r *Registry
	if err := r.Check("x", 1, []byte(`{`)); err != nil || r.Len() != 0 || r.Has("x", 1) {
		t.Fatalf("nil registry: %v", err)
	}
	if err := mustParse(t, `{}`).Check("x", 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejects(t *testing.T) {
	long := strings.Repeat("t", 129)
	tests := []struct {
		name, file, want string
	}{
		{"empty", ``, "end of JSON"},
		{"not an object", `[]`, "not a JSON object"},
		{"syntax error line", "{\n\"a\": {\n\"1\": {,}}}", "line 3"},
		{"trailing data", `{} {}`, "after the JSON object"},
		{"duplicate type", `{"a":{"1":true},"a":{"2":true}}`, `"a" appears twice`},
		{"duplicate version", `{"a":{"1":true,"1":false}}`, `"1" appears twice`},
		{"versions not an object", `{"a":[true]}`, `type "a"`},
		{"empty type", `{"":{"1":true}}`, "1 to 128 bytes"},
		{"long type", `{"` + long + `":{"1":true}}`, "1 to 128 bytes"},
		{"version 0", `{"a":{"0":true}}`, `version "0"`},
		{"version word", `{"a":{"one":true}}`, `version "one"`},
		{"version leading zero", `{"a":{"01":true}}`, `version "01"`},
		{"version too large", `{"a":{"4294967296":true}}`, `version "4294967296"`},
		{"schema not a schema", `{"a":{"1":5}}`, `type "a" version 1`},
		{"bad keyword value", `{"a":{"1":{"type":"objekt"}}}`, `type "a" version 1`},
		{"bad pattern", `{"a":{"1":{"pattern":"("}}}`, `type "a" version 1`},
		{"remote ref", `{"a":{"1":{"$ref":"https://example.com/s.json"}}}`, "only $ref into the registry"},
		{"file ref", `{"a":{"1":{"$ref":"file:///etc/passwd"}}}`, "only $ref into the registry"},
		{"dangling ref", `{"a":{"1":{"$ref":"#/$defs/none"}}}`, `type "a" version 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			if err == nil || !errors.Is(err, ErrRegistry) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want an ErrRegistry naming %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schemas.json")
	if err := os.WriteFile(path, []byte(doorRegistry), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil || r.Len() != 4 {
		t.Fatalf("Load: %d schemas, %v", r.Len(), err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"a":{"x":true}}`), 0o600)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("Load of a bad file: %v (want its path named)", err)
	}
}
