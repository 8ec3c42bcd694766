package jsonscan

import (
	"bytes"
	"runtime"
	"testing"
)

// wantBlocks is what specialBlocks must return on amd64: the first special
// byte's index within p's whole 16-byte blocks, or their length.
func wantBlocks(p []byte) int {
	n := len(p) &^ 15
	for i, c := range p[:n] {
		if c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return n
}

func checkBlocks(t *testing.T, p []byte) {
	t.Helper()
	got := specialBlocks(p)
	if got < 0 || got > len(p) {
		t.Fatalf("specialBlocks(%q) = %d, outside the input", p, got)
	}
	if want := wantBlocks(p); got > want || runtime.GOARCH == "amd64" && got != want {
		t.Fatalf("specialBlocks(%q) = %d, want %d", p, got, want)
	}
}

func TestSpecialBlocks(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 100)
	cases := [][]byte{nil, []byte(`"`), []byte("0123456789abcde\""), []byte("0123456789abcdef\""), long}
	// Every special byte class at every position of the first three
	// blocks, and the bytes around the class boundaries that are not.
	for _, c := range []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff} {
		for i := range 48 {
			p := bytes.Clone(long)
			p[i] = c
			cases = append(cases, p, p[:i+1], p[i:])
		}
	}
	for _, p := range cases {
		checkBlocks(t, p)
	}
}

// FuzzSpecialBlocks checks the block scan against the byte loop.
func FuzzSpecialBlocks(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789\\bcdef"))
	f.Add([]byte("\x1f0123456789abcdef"))
	f.Fuzz(func(t *testing.T, p []byte) { checkBlocks(t, p) })
}
