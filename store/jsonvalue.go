package store

import "strconv"

// topLevelNumber returns the number stored under key at the top level of
// the JSON object p, without decoding the rest of it. p must be valid JSON
// (payloads are validated at ingest and on receipt); on anything else it
// returns false. Keys with escapes are compared after no unescaping, so a
// key spelled with escapes does not match.
func topLevelNumber(p []byte, key string) (float64, bool) {
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return 0, false
		}
		end := skipString(p, i)
		if end < 0 {
			return 0, false
		}
		match := string(p[i+1:end-1]) == key
		i = skipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return 0, false
		}
		i = skipSpace(p, i+1)
		vend := skipValue(p, i)
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
		i = skipSpace(p, vend)
		if i >= len(p) || p[i] != ',' {
			return 0, false
		}
		i++
	}
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at p[i].
func skipString(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at p[i].
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				if j = skipString(p, j); j < 0 {
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
