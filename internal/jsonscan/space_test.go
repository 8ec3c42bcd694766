package jsonscan

import (
	"bytes"
	"strings"
	"testing"
)

func TestHasSpace(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"{}", false},
		{`{"a":1}`, false},
		{`{"a": 1}`, true},
		{"{\"a\":1}\n", true},
		{"\t", true},
		{"\r", true},
		{`{"k":"` + strings.Repeat("x", 40) + `"}`, false},
		{`{"k":"` + strings.Repeat("x", 40) + ` "}`, true},      // in a string still counts
		{"\x00\x01\x1f\x21\x7f\xff\xe2\x80\xa8abcdefgh", false}, // below, above and beside 0x20
		{"\x1f\x20", true},
		{strings.Repeat("é", 20) + " ", true},
		{strings.Repeat("é", 20), false},
	} {
		if got := HasSpace([]byte(c.in)); got != c.want {
			t.Errorf("HasSpace(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzHasSpace checks HasSpace against the byte-at-a-time definition.
func FuzzHasSpace(f *testing.F) {
	f.Add([]byte(`{"a": [1, 2]}`))
	f.Add([]byte("\x1f!\x20\x21\x80\x09"))
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := HasSpace(p), bytes.ContainsAny(p, " \t\r\n"); got != want {
			t.Fatalf("HasSpace(%q) = %v, want %v", p, got, want)
		}
	})
}

// BenchmarkHasSpace: a compact 256-byte payload, against bytes.ContainsAny.
func BenchmarkHasSpace(b *testing.B) {
	p := []byte(`{"value":42,"pad":"` + strings.Repeat("x", 234) + `"}`)
	b.Run("ContainsAny", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			bytes.ContainsAny(p, " \t\r\n")
		}
	})
	b.Run("HasSpace", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			HasSpace(p)
		}
	})
}
