package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTopLevelNumber(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{`{"value":42}`, 42, true},
		{`{ "a" : "x\"value\":1" , "value" : -1.5e3 }`, -1500, true},
		{`{"nested":{"value":7},"value":3}`, 3, true},
		{`{"nested":{"value":7}}`, 0, false},
		{`{"arr":[1,{"value":2},"]"],"value":0}`, 0, true},
		{`{"value":"12"}`, 0, false},
		{`{"value":null}`, 0, false},
		{`{"value":true}`, 0, false},
		{`{}`, 0, false},
		{`[1]`, 0, false},
		{`{"value":1e999}`, 0, false},
		// A key or string cut off after a backslash, at lengths
		// around the 16-byte blocks (a fuzzer's panic: the escape's skip
		// stepped past the end).
		{`{"0000000000000000000000000000000000000000\`, 0, false},
		{`{"00000000000000\`, 0, false},
		{`{"000000000000000\`, 0, false},
		{`{"x":"0000000000000000\`, 0, false},
	}
	for _, tc := range cases {
		got, ok := TopLevelNumber([]byte(tc.in), "value")
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: got %v,%v want %v,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzTopLevelNumber checks the scanner against encoding/json on valid
// objects and that it never panics on anything.
func FuzzTopLevelNumber(f *testing.F) {
	f.Add([]byte(`{"value":1,"b":[{"value":2}]}`))
	f.Add([]byte(`{"a":"\\","value":-0.5}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		got, ok := TopLevelNumber(p, "value")
		var m map[string]json.RawMessage
		if json.Unmarshal(p, &m) != nil {
			return
		}
		var want float64
		raw, has := m["value"]
		wantOK := has && json.Unmarshal(raw, &want) == nil
		if wantOK && (!ok || got != want) {
			t.Fatalf("%q: got %v,%v want %v", p, got, ok, want)
		}
		if !wantOK && ok && !(has && raw[0] != 'n') {
			t.Fatalf("%q: found %v where encoding/json finds none", p, got)
		}
	})
}

func TestMembers(t *testing.T) {
	cases := []struct {
		in   string
		keys []string
		ok   bool
	}{
		{`{}`, nil, true},
		{` { "a" : 1 , "b":{"c":[1,"}"]} } `, []string{`"a"`, `"b"`}, true},
		{`{"a":1} x`, []string{`"a"`}, false},
		{`[1]`, nil, false},
		{`{"a":1,}`, []string{`"a"`}, false},
	}
	for _, tc := range cases {
		ms, ok := Members([]byte(tc.in), nil)
		if ok != tc.ok {
			t.Fatalf("%s: ok %v", tc.in, ok)
		}
		if ok {
			var keys []string
			for _, m := range ms {
				keys = append(keys, string(m.Key))
			}
			if len(keys) != len(tc.keys) || (len(keys) > 0 && strings.Join(keys, ",") != strings.Join(tc.keys, ",")) {
				t.Fatalf("%s: keys %v", tc.in, keys)
			}
		}
	}
}

// FuzzMembers: on valid JSON objects, Members agrees with encoding/json
// on the set of keys and values; it never panics on anything.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"type":"x","payload":{"a":[1,2,{"b":"}"}]},"ts":5}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		ms, ok := Members(p, nil)
		var m map[string]json.RawMessage
		if json.Unmarshal(p, &m) != nil {
			return
		}
		if !ok {
			t.Fatalf("valid object %q not split", p)
		}
		for _, mem := range ms {
			var k string
			if err := json.Unmarshal(mem.Key, &k); err != nil {
				t.Fatalf("bad key %q", mem.Key)
			}
			if _, found := m[k]; !found {
				t.Fatalf("key %q not in encoding/json's view", k)
			}
		}
	})
}
