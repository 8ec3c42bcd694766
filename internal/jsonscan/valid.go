package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// maxDepth is the deepest nesting Valid accepts: encoding/json's own limit,
// so that Valid and json.Valid agree on every input.
const maxDepth = 10000

// Valid reports whether p is one valid JSON value surrounded only by
// whitespace. It accepts exactly what encoding/json.Valid accepts (bytes of
// 0x80 and above inside strings are not checked as UTF-8, as there), at
// several times its speed: strings, which dominate analytics payloads, are
// scanned eight bytes at a time.
func Valid(p []byte) bool {
	v := validator{p: p}
	i := v.value(SkipSpace(p, 0), 0)
	return i >= 0 && SkipSpace(p, i) == len(p)
}

type validator struct{ p []byte }

// value returns the index just past the value at p[i], or -1.
func (v *validator) value(i, depth int) int {
	p := v.p
	if i >= len(p) {
		return -1
	}
	switch c := p[i]; {
	case c == '"':
		return v.str(i)
	case c == '{':
		return v.object(i, depth+1)
	case c == '[':
		return v.array(i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return v.number(i)
	case c == 't':
		return v.literal(i, "true")
	case c == 'f':
		return v.literal(i, "false")
	case c == 'n':
		return v.literal(i, "null")
	}
	return -1
}

func (v *validator) literal(i int, lit string) int {
	if len(v.p)-i < len(lit) || string(v.p[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func (v *validator) object(i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	p := v.p
	i = SkipSpace(p, i+1)
	if i < len(p) && p[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(p) || p[i] != '"' {
			return -1
		}
		if i = v.str(i); i < 0 {
			return -1
		}
		i = SkipSpace(p, i)
		if i >= len(p) || p[i] != ':' {
			return -1
		}
		if i = v.value(SkipSpace(p, i+1), depth); i < 0 {
			return -1
		}
		i = SkipSpace(p, i)
		if i >= len(p) {
			return -1
		}
		switch p[i] {
		case ',':
			i = SkipSpace(p, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func (v *validator) array(i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	p := v.p
	i = SkipSpace(p, i+1)
	if i < len(p) && p[i] == ']' {
		return i + 1
	}
	for {
		if i = v.value(i, depth); i < 0 {
			return -1
		}
		i = SkipSpace(p, i)
		if i >= len(p) {
			return -1
		}
		switch p[i] {
		case ',':
			i = SkipSpace(p, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// SWAR constants: a word of 0x01 bytes and a word of 0x80 bytes.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// special returns a word whose high bit is set in every byte of w that is
// a quote, a backslash or a control character (below 0x20). A byte with
// its own high bit set is excluded, and a false positive next to a real
// hit (the usual borrow effect) only makes the caller look one byte
// earlier than needed, never later.
func special(w uint64) uint64 {
	quote := w ^ (lo8 * '"')
	bslash := w ^ (lo8 * '\\')
	hasZero := func(x uint64) uint64 { return (x - lo8) &^ x & hi8 }
	ctrl := (w - lo8*0x20) &^ w & hi8
	return hasZero(quote) | hasZero(bslash) | ctrl
}

// str returns the index just past the string literal at p[i], or -1.
func (v *validator) str(i int) int {
	p := v.p
	j := i + 1
	for {
		j += specialBlocks(p[j:])
		for len(p)-j >= 8 {
			if m := special(binary.LittleEndian.Uint64(p[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		if j >= len(p) {
			return -1
		}
		switch c := p[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			if j = v.escape(j); j < 0 {
				return -1
			}
		case c < 0x20:
			return -1
		default:
			j++
		}
	}
}

// escape returns the index just past the escape sequence at p[j], or -1.
func (v *validator) escape(j int) int {
	p := v.p
	if j+1 >= len(p) {
		return -1
	}
	switch p[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return j + 2
	case 'u':
		if len(p)-j < 6 {
			return -1
		}
		for _, h := range p[j+2 : j+6] {
			if !isHex(h) {
				return -1
			}
		}
		return j + 6
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number returns the index just past the number at p[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (v *validator) number(i int) int {
	p := v.p
	if p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		i = digits(p, i+1)
	default:
		return -1
	}
	if i < len(p) && p[i] == '.' {
		j := digits(p, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		j := digits(p, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(p []byte, i int) int {
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	return i
}
