package store

import (
	"encoding/json"
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
	}
	for _, tc := range cases {
		got, ok := topLevelNumber([]byte(tc.in), "value")
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
		got, ok := topLevelNumber(p, "value")
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
