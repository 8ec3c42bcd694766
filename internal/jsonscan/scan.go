// Package jsonscan validates JSON and walks JSON that is already known to
// be valid without decoding it: finding a top-level field's span or number,
// or splitting an object into its members. It is the fast path for ingest
// parsing and aggregate extraction; callers validate with Valid (which
// agrees with encoding/json.Valid on every input) first.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// TopLevelNumber returns the number stored under key at the top level of
// the JSON object p, without decoding the rest of it. p must be valid JSON
// (payloads are validated at ingest and on receipt); on anything else it
// returns false. Keys with escapes are compared after no unescaping, so a
// key spelled with escapes does not match.
func TopLevelNumber(p []byte, key string) (float64, bool) {
	i := SkipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = SkipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return 0, false
		}
		end := SkipString(p, i)
		if end < 0 {
			return 0, false
		}
		match := string(p[i+1:end-1]) == key
		i = SkipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return 0, false
		}
		i = SkipSpace(p, i+1)
		vend := SkipValue(p, i)
		if vend < 0 {
			return 0, false
		}
		if match {
			if c := p[i]; c == '-' || (c >= '0' && c <= '9') {
				f, err := strconv.ParseFloat(string(p[i:vend]), 64)
				if err != nil {
					return 0, false
				}
				return f, true
			}
			return 0, false
		}
		i = SkipSpace(p, vend)
		if i >= len(p) || p[i] != ',' {
			return 0, false
		}
		i++
	}
}

// SkipSpace returns the index of the first non-whitespace byte at or after i.
func SkipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// SkipString returns the index just past the string starting at p[i], or -1.
func SkipString(p []byte, i int) int {
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
		switch p[j] {
		case '\\':
			if j+1 == len(p) { // an escape cut off by the end
				return -1
			}
			j += 2
		case '"':
			return j + 1
		default:
			j++
		}
	}
}

// SkipValue returns the index just past the value starting at p[i], or -1.
func SkipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return SkipString(p, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				if j = SkipString(p, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(p) && p[j] != ',' && p[j] != '}' && p[j] != ']' && p[j] != ' ' && p[j] != '\t' && p[j] != '\n' && p[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// Member is one member of a JSON object: its key (still quoted and
// escaped, as it appears) and its value's bytes.
type Member struct {
	Key   []byte
	Value []byte
}

// Members splits the valid JSON object p into its members in order. It
// returns false if p is not an object followed only by whitespace.
func Members(p []byte, out []Member) ([]Member, bool) {
	i := SkipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return out, false
	}
	i = SkipSpace(p, i+1)
	if i < len(p) && p[i] == '}' {
		return out, SkipSpace(p, i+1) == len(p)
	}
	for {
		if i >= len(p) || p[i] != '"' {
			return out, false
		}
		end := SkipString(p, i)
		if end < 0 {
			return out, false
		}
		key := p[i:end]
		i = SkipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return out, false
		}
		i = SkipSpace(p, i+1)
		vend := SkipValue(p, i)
		if vend < 0 {
			return out, false
		}
		out = append(out, Member{Key: key, Value: p[i:vend]})
		i = SkipSpace(p, vend)
		if i >= len(p) {
			return out, false
		}
		switch p[i] {
		case ',':
			i = SkipSpace(p, i+1)
		case '}':
			return out, SkipSpace(p, i+1) == len(p)
		default:
			return out, false
		}
	}
}

// HasSpace reports whether p holds a JSON whitespace byte (space, tab,
// line feed or carriage return), eight bytes at a time.
func HasSpace(p []byte) bool {
	for len(p) >= 8 {
		w := binary.LittleEndian.Uint64(p)
		// A high bit for every byte below 0x21 (and, by the borrow, maybe
		// one next to it): only then are the bytes looked at one by one.
		if (w-lo8*0x21)&^w&hi8 != 0 && hasSpaceByte(p[:8]) {
			return true
		}
		p = p[8:]
	}
	return hasSpaceByte(p)
}

func hasSpaceByte(p []byte) bool {
	for _, c := range p {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}
