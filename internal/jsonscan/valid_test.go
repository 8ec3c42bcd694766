package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	tooDeep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	for _, in := range []string{
		``, ` `, `{}`, ` {} `, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[]`, `[1,2,3]`, `[1,]`, `[,1]`,
		`"x"`, `"\u00e9"`, `"\u00eZ"`, `"\x"`, `"\/\b\f\n\r\t\"\\"`, "\"tab\there\"", `"unterminated`,
		`"long string that crosses several eight-byte words without anything special"`,
		`"long string that crosses several words \" with a quote"`, "\"\xff\xfe invalid utf-8\"",
		`0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1e+5`, `1E-5`, `-1.5e10`, `.5`, `+1`,
		`true`, `false`, `null`, `tru`, `nul`, `truex`, `{"a":[{"b":null}],"c":"d"}`, `{} {}`, `1 2`,
		deep, tooDeep, "{\"a\":\"\x1f\"}", "{\"pad\":\"" + strings.Repeat("x", 300) + "\"}",
	} {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			name := in
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("Valid(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}

// FuzzValid checks Valid against encoding/json.Valid on every input.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"type":"a","payload":{"v":[1,2.5e3,"x\u0041"]}}`, `[true,false,null]`, `"\\"`, `-0.1E+2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	line := []byte(`{"type":"sensor.reading","payload":{"value":42,"pad":"` + strings.Repeat("x", 216) + `"}}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			json.Valid(line)
		}
	})
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			Valid(line)
		}
	})
}
