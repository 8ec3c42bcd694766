package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/rumor-sync/rumor/internal/jsonscan"
)

var errNotJSON = errors.New("not valid JSON")

// decodeValid decodes p, which json.Valid has accepted, into the values a
// jsonschema.Schema validates (what jsonschema.UnmarshalJSON gives:
// map[string]any, []any, string, json.Number, bool, nil) in one pass,
// without validating it again.
func decodeValid(p []byte) (any, error) {
	d := decoder{p: p}
	v, ok := d.value()
	if !ok {
		return nil, errNotJSON
	}
	return v, nil
}

type decoder struct {
	p []byte
	i int
}

func (d *decoder) value() (any, bool) {
	d.i = jsonscan.SkipSpace(d.p, d.i)
	if d.i >= len(d.p) {
		return nil, false
	}
	switch c := d.p[d.i]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		return d.string()
	case 't':
		d.i += 4
		return true, true
	case 'f':
		d.i += 5
		return false, true
	case 'n':
		d.i += 4
		return nil, true
	}
	end := jsonscan.SkipValue(d.p, d.i)
	if end < 0 {
		return nil, false
	}
	n := json.Number(d.p[d.i:end])
	d.i = end
	return n, true
}

func (d *decoder) string() (any, bool) {
	end := jsonscan.SkipString(d.p, d.i)
	if end < 0 {
		return nil, false
	}
	raw := d.p[d.i:end]
	d.i = end
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	// Escapes, or invalid UTF-8 that encoding/json turns into U+FFFD.
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	return s, true
}

func (d *decoder) object() (any, bool) {
	m := map[string]any{}
	d.i++ // {
	if d.skip('}') {
		return m, true
	}
	for {
		d.i = jsonscan.SkipSpace(d.p, d.i)
		k, ok := d.string()
		if !ok || !d.skip(':') {
			return nil, false
		}
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k.(string)] = v
		if d.skip('}') {
			return m, true
		}
		if !d.skip(',') {
			return nil, false
		}
	}
}

func (d *decoder) array() (any, bool) {
	a := []any{}
	d.i++ // [
	if d.skip(']') {
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if d.skip(']') {
			return a, true
		}
		if !d.skip(',') {
			return nil, false
		}
	}
}

// skip consumes c, after whitespace, if it comes next.
func (d *decoder) skip(c byte) bool {
	i := jsonscan.SkipSpace(d.p, d.i)
	if i < len(d.p) && d.p[i] == c {
		d.i = i + 1
		return true
	}
	return false
}
