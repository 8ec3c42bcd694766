package event

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestParseInputValid(t *testing.T) {
	v1 := testCID(t, "hello")
	long := strings.Repeat("t", MaxTypeLen)
	twoByte := strings.Repeat("é", MaxTypeLen/2) // 128 bytes, 64 runes
	tests := []struct {
		name string
		in   string
		want Input
	}{
		{"minimal", `{"type":"click"}`,
			Input{Type: "click", Schema: DefaultSchema, Payload: json.RawMessage(`{}`)}},
		{"all fields", `{"type":"view","ts":1700000000123,"schema":3,"payload":{"a":1,"b":[true,null]},"blobs":["` + v1.String() + `"]}`,
			Input{Type: "view", TS: 1700000000123, HasTS: true, Schema: 3, Payload: json.RawMessage(`{"a":1,"b":[true,null]}`), Blobs: []cid.Cid{v1}}},
		{"surrounding whitespace", " \t\r\n{ \"type\" : \"x\" }\n\n",
			Input{Type: "x", Schema: DefaultSchema, Payload: json.RawMessage(`{}`)}},
		{"ts integer", `{"type":"x","ts":-5}`,
			Input{Type: "x", TS: -5, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts zero", `{"type":"x","ts":0}`,
			Input{Type: "x", TS: 0, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts float integer", `{"type":"x","ts":1700000000123.0}`,
			Input{Type: "x", TS: 1700000000123, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts exponent", `{"type":"x","ts":1.7e12}`,
			Input{Type: "x", TS: 1_700_000_000_000, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts above 2^53 exact", `{"type":"x","ts":9007199254740993.0}`,
			Input{Type: "x", TS: 9007199254740993, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts max int64", `{"type":"x","ts":9223372036854775807}`,
			Input{Type: "x", TS: math.MaxInt64, HasTS: true, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"ts null is absent", `{"type":"x","ts":null}`,
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"schema zero", `{"type":"x","schema":0}`,
			Input{Type: "x", Schema: 0, Payload: json.RawMessage(`{}`)}},
		{"schema max", `{"type":"x","schema":4294967295}`,
			Input{Type: "x", Schema: math.MaxUint32, Payload: json.RawMessage(`{}`)}},
		{"schema null is default", `{"type":"x","schema":null}`,
			Input{Type: "x", Schema: DefaultSchema, Payload: json.RawMessage(`{}`)}},
		{"payload null", `{"type":"x","payload":null}`,
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"payload empty object", `{"type":"x","payload":{ }}`,
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"payload nested compacted", "{\"type\":\"x\",\"payload\":{\n  \"a\" : { \"b\" : [ 1 , 2 ] },\n\t\"c\" : \"x y\\n\"\r\n}}",
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{"a":{"b":[1,2]},"c":"x y\n"}`)}},
		{"type 128 bytes", `{"type":"` + long + `"}`,
			Input{Type: long, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"type 128 bytes of 2-byte runes", `{"type":"` + twoByte + `"}`,
			Input{Type: twoByte, Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"type with escapes", `{"type":"a\"b\u00e9"}`,
			Input{Type: "a\"bé", Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"blobs empty", `{"type":"x","blobs":[]}`,
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{}`)}},
		{"blobs null", `{"type":"x","blobs":null}`,
			Input{Type: "x", Schema: 1, Payload: json.RawMessage(`{}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInput([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseInput: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseInputInvalid(t *testing.T) {
	v0 := testCIDv0(t, "hello").String()
	manyBlobs := `"` + strings.Repeat(testCID(t, "b").String()+`","`, MaxBlobs) + testCID(t, "b").String() + `"`
	tests := []struct {
		name, in, field string
	}{
		{"ts non-numeric string", `{"type":"x","ts":"abc"}`, `"ts"`},
		{"ts numeric string", `{"type":"x","ts":"123"}`, `"ts"`},
		{"ts fraction", `{"type":"x","ts":1.5}`, `"ts"`},
		{"ts tiny fraction", `{"type":"x","ts":1.0000000000000001}`, `"ts"`},
		{"ts negative exponent", `{"type":"x","ts":1e-3}`, `"ts"`},
		{"ts above int64", `{"type":"x","ts":9223372036854775808}`, `"ts"`},
		{"ts below int64", `{"type":"x","ts":-9223372036854775809}`, `"ts"`},
		{"ts huge exponent", `{"type":"x","ts":1e400}`, `"ts"`},
		{"ts bool", `{"type":"x","ts":true}`, `"ts"`},
		{"ts object", `{"type":"x","ts":{}}`, `"ts"`},
		{"schema negative", `{"type":"x","schema":-1}`, `"schema"`},
		{"schema too big", `{"type":"x","schema":4294967296}`, `"schema"`},
		{"schema string", `{"type":"x","schema":"1"}`, `"schema"`},
		{"schema fraction", `{"type":"x","schema":1.5}`, `"schema"`},
		{"schema array", `{"type":"x","schema":[1]}`, `"schema"`},
		{"payload array", `{"type":"x","payload":[1,2]}`, `"payload"`},
		{"payload string", `{"type":"x","payload":"{}"}`, `"payload"`},
		{"payload number", `{"type":"x","payload":12}`, `"payload"`},
		{"payload bool", `{"type":"x","payload":false}`, `"payload"`},
		{"type missing", `{"ts":1}`, `"type"`},
		{"type empty", `{"type":""}`, `"type"`},
		{"type null", `{"type":null}`, `"type"`},
		{"type number", `{"type":5}`, `"type"`},
		{"type object", `{"type":{"a":"b"}}`, `"type"`},
		{"type 129 bytes", `{"type":"` + strings.Repeat("t", MaxTypeLen+1) + `"}`, `"type"`},
		{"type 129 bytes of 3-byte runes", `{"type":"` + strings.Repeat("€", 43) + `"}`, `"type"`},
		{"empty object", `{}`, `"type"`},
		{"top-level null", `null`, `"type"`},
		{"blob CIDv0", `{"type":"x","blobs":["` + v0 + `"]}`, `"blobs"[0]`},
		{"blob garbage", `{"type":"x","blobs":["` + testCID(t, "a").String() + `","not-a-cid"]}`, `"blobs"[1]`},
		{"blob empty string", `{"type":"x","blobs":[""]}`, `"blobs"[0]`},
		{"blob too long", `{"type":"x","blobs":["b` + strings.Repeat("a", 2*MaxCIDLen) + `"]}`, `"blobs"[0]`},
		{"blobs not array", `{"type":"x","blobs":"` + testCID(t, "a").String() + `"}`, `"blobs"`},
		{"blobs number element", `{"type":"x","blobs":[1]}`, `"blobs"`},
		{"too many blobs", `{"type":"x","blobs":[` + manyBlobs + `]}`, `"blobs"`},
		{"unknown field", `{"type":"x","tpye":"y"}`, `"tpye"`},
		{"trailing object", `{"type":"x"} {}`, "trailing data"},
		{"trailing brace", `{"type":"x"}}`, "trailing data"},
		{"trailing bracket", `{"type":"x"}]`, "trailing data"},
		{"trailing garbage", `{"type":"x"}x`, "trailing data"},
		{"trailing NUL", "{\"type\":\"x\"}\x00", "trailing data"},
		{"empty input", ``, "malformed JSON"},
		{"truncated", `{"type":`, "malformed JSON"},
		{"trailing comma", `{"type":"x",}`, "malformed JSON"},
		{"top-level array", `[{"type":"x"}]`, "malformed JSON"},
		{"top-level string", `"x"`, "malformed JSON"},
		{"bad payload", `{"type":"x","payload":{"a":}}`, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInput([]byte(tt.in))
			wantInvalid(t, err, tt.field)
			if !reflect.DeepEqual(got, Input{}) {
				t.Fatalf("got %+v with the error, want the zero Input", got)
			}
		})
	}
}

func TestParseInputMaxBlobs(t *testing.T) {
	c := testCID(t, "b")
	list := make([]string, MaxBlobs)
	for i := range list {
		list[i] = c.String()
	}
	b, err := json.Marshal(map[string]any{"type": "x", "blobs": list})
	if err != nil {
		t.Fatal(err)
	}
	in, err := ParseInput(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Blobs) != MaxBlobs || !in.Blobs[MaxBlobs-1].Equals(c) {
		t.Fatalf("got %d blobs", len(in.Blobs))
	}
}

func TestParseInputPayloadLimit(t *testing.T) {
	fill := strings.Repeat("a", MaxPayloadLen-len(`{"k":""}`))
	// Exactly the limit once compacted, though the raw text is larger.
	in, err := ParseInput([]byte(`{"type":"x","payload":{ "k" : "` + fill + `" }}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Payload) != MaxPayloadLen {
		t.Fatalf("payload of %d bytes, want %d", len(in.Payload), MaxPayloadLen)
	}
	_, err = ParseInput([]byte(`{"type":"x","payload":{"k":"` + fill + `a"}}`))
	wantInvalid(t, err, `"payload"`)
}

func TestJSONInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"12", 12, true}, {"-12", -12, true},
		{"1.0", 1, true}, {"1.50e1", 15, true}, {"100e-2", 1, true}, {"12.340e2", 1234, true},
		{"1E2", 100, true}, {"1e+2", 100, true}, {"0.0e99999999999999999999", 0, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9.223372036854775807e18", math.MaxInt64, true}, {"9007199254740993.0", 9007199254740993, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"1e19", 0, false}, {"1e99999999999999999999", 0, false}, {"1e-99999999999999999999", 0, false},
		{"1.5", 0, false}, {"0.1", 0, false}, {"1.0000000000000001", 0, false}, {"123e-2", 0, false},
		{`"1"`, 0, false}, {"true", 0, false}, {"null", 0, false}, {"[1]", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, ok := jsonInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("jsonInt(%s) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseBlobCID(t *testing.T) {
	c := testCID(t, "x")
	got, err := ParseBlobCID(c.String())
	if err != nil || !got.Equals(c) {
		t.Fatalf("ParseBlobCID(%s) = %v, %v", c, got, err)
	}
	for _, s := range []string{"", "garbage", testCIDv0(t, "x").String(), strings.Repeat("b", 2*MaxCIDLen+1)} {
		if _, err := ParseBlobCID(s); err == nil {
			t.Errorf("ParseBlobCID(%.20q) accepted", s)
		}
	}
}
