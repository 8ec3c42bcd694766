package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/internal/jsonscan"
)

// Input is one event as a client submits it, before the node gives it an
// id, an origin, a seq and a place in the hash chain.
type Input struct {
	Type    string
	TS      int64 // epoch ms; meaningful only when HasTS
	HasTS   bool
	Schema  uint32
	Payload json.RawMessage // compact JSON object
	Blobs   []cid.Cid
}

// wireInput mirrors the JSON form of Input for decoding. Every field is kept
// raw so that each is checked here, with an error that names it: decoding
// into typed fields would let "ts": "123" through as a number and report
// other type errors without the field's name.
type wireInput struct {
	Type    json.RawMessage `json:"type"`
	TS      json.RawMessage `json:"ts"`
	Schema  json.RawMessage `json:"schema"`
	Payload json.RawMessage `json:"payload"`
	Blobs   json.RawMessage `json:"blobs"`
}

// ParseInput decodes and validates one JSON ingest object:
// {"type": …, "ts"?: …, "schema"?: …, "payload"?: {…}, "blobs"?: [cid…]}.
// A field that is null counts as absent. Unknown fields are rejected so that
// typos do not pass silently, and so is anything but whitespace after the
// object. Every error wraps ErrInvalid and names the offending field.
func ParseInput(b []byte) (Input, error) {
	if w, ok := splitInput(b); ok {
		in, err := w.input()
		if err != nil {
			return Input{}, err
		}
		return in, nil
	}
	return parseInputSlow(b)
}

// splitInput is the fast path: for valid JSON with exactly-spelled,
// unique, escape-free keys it slices the fields out without decoding. It
// reports false for anything else, which the slow path then explains.
func splitInput(b []byte) (wireInput, bool) {
	var w wireInput
	if !jsonscan.Valid(b) {
		return w, false
	}
	var buf [8]jsonscan.Member
	members, ok := jsonscan.Members(b, buf[:0])
	if !ok {
		return w, false
	}
	for _, m := range members {
		var dst *json.RawMessage
		switch string(m.Key) {
		case `"type"`:
			dst = &w.Type
		case `"ts"`:
			dst = &w.TS
		case `"schema"`:
			dst = &w.Schema
		case `"payload"`:
			dst = &w.Payload
		case `"blobs"`:
			dst = &w.Blobs
		default:
			return w, false // unknown or escaped key: the slow path names it
		}
		if *dst != nil {
			return w, false // duplicate key
		}
		*dst = m.Value
	}
	return w, true
}

// parseInputSlow decodes with encoding/json, for its error messages.
func parseInputSlow(b []byte) (Input, error) {
	var w wireInput
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Input{}, fmt.Errorf("%w: malformed JSON: %v", ErrInvalid, err)
	}
	// Decoder.More reports false before a stray '}' or ']', so check the
	// rest of the input directly.
	if rest := b[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return Input{}, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	in, err := w.input()
	if err != nil {
		return Input{}, err
	}
	return in, nil
}

func (w *wireInput) input() (Input, error) {
	in := Input{Schema: DefaultSchema}
	if isNull(w.Type) || w.Type[0] != '"' || !jsonString(w.Type, &in.Type) || in.Type == "" {
		return in, fmt.Errorf("%w: field \"type\" is missing or not a non-empty string", ErrInvalid)
	}
	if len(in.Type) > MaxTypeLen {
		return in, fmt.Errorf("%w: field \"type\" is longer than %d bytes", ErrInvalid, MaxTypeLen)
	}
	if !isNull(w.TS) {
		ts, ok := jsonInt(w.TS)
		if !ok {
			return in, fmt.Errorf("%w: field \"ts\" must be an integer of epoch milliseconds", ErrInvalid)
		}
		in.TS, in.HasTS = ts, true
	}
	if !isNull(w.Schema) {
		s, err := strconv.ParseInt(string(w.Schema), 10, 64)
		if err != nil || s < 0 || s > math.MaxUint32 {
			return in, fmt.Errorf("%w: field \"schema\" must be an integer from 0 to %d", ErrInvalid, uint32(math.MaxUint32))
		}
		in.Schema = uint32(s)
	}
	payload, err := compactObject(w.Payload)
	if err != nil {
		return in, err
	}
	in.Payload = payload
	if isNull(w.Blobs) {
		return in, nil
	}
	var blobs []string
	if w.Blobs[0] != '[' || json.Unmarshal(w.Blobs, &blobs) != nil {
		return in, fmt.Errorf("%w: field \"blobs\" must be an array of CID strings", ErrInvalid)
	}
	if len(blobs) > MaxBlobs {
		return in, fmt.Errorf("%w: field \"blobs\" has more than %d entries", ErrInvalid, MaxBlobs)
	}
	for i, s := range blobs {
		c, err := ParseBlobCID(s)
		if err != nil {
			return in, fmt.Errorf("%w: field \"blobs\"[%d]: %v", ErrInvalid, i, err)
		}
		in.Blobs = append(in.Blobs, c)
	}
	return in, nil
}

// isNull reports whether a raw field is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// jsonInt returns the exact value of a JSON value that is a number literal
// denoting an integer in the int64 range, such as 12, -0, 1.0 or 1.5e3. It
// works on the decimal digits, so 1.0000000000000001 (not an integer) and
// 9007199254740993.0 (not a float64) are not rounded.
func jsonInt(raw []byte) (int64, bool) {
	s := string(raw)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false // a string, bool, array or object
	}
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		expNeg := strings.HasPrefix(e, "-")
		e = strings.TrimLeft(e, "+-")
		for j := 0; j < len(e); j++ {
			if e[j] < '0' || e[j] > '9' {
				return 0, false
			}
			if exp < 1<<40 { // saturate: beyond this only zero is an int64
				exp = exp*10 + int64(e[j]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	exp -= int64(len(frac))
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "" {
		return 0, true
	}
	if exp < 0 || int64(len(digits))+exp > 19 {
		return 0, false // a fraction, or at least 10^19
	}
	var v uint64 // below 10^19 < 2^64, so no overflow
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
		v = v*10 + uint64(digits[i]-'0')
	}
	for ; exp > 0; exp-- {
		v *= 10
	}
	switch {
	case neg && v <= 1<<63:
		return int64(-v), true
	case !neg && v <= math.MaxInt64:
		return int64(v), true
	}
	return 0, false
}

// compactObject checks that raw is absent, null or a JSON object and returns
// it compacted; absent and null become {}.
func compactObject(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("%w: field \"payload\" must be a JSON object", ErrInvalid)
	}
	var out json.RawMessage
	if needsCompact(raw) {
		var buf bytes.Buffer
		buf.Grow(len(raw))
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("%w: field \"payload\": %v", ErrInvalid, err)
		}
		out = buf.Bytes()
	} else {
		out = append(out, raw...)
	}
	// The limit is on the compact form, as stored.
	if len(out) > MaxPayloadLen {
		return nil, fmt.Errorf("%w: field \"payload\" is larger than %d bytes", ErrInvalid, MaxPayloadLen)
	}
	return out, nil
}

// needsCompact reports whether raw may contain insignificant whitespace.
func needsCompact(raw []byte) bool {
	return jsonscan.HasSpace(raw)
}

// ParseBlobCID parses a textual CID an event may reference: any CIDv1.
func ParseBlobCID(s string) (cid.Cid, error) {
	if len(s) > 2*MaxCIDLen {
		return cid.Undef, fmt.Errorf("CID longer than %d characters", 2*MaxCIDLen)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("invalid CID %q: %v", s, err)
	}
	if c.Version() != 1 {
		return cid.Undef, fmt.Errorf("CID %q is not a CIDv1", s)
	}
	if len(c.KeyString()) > MaxCIDLen {
		return cid.Undef, fmt.Errorf("CID %q is longer than %d bytes", s, MaxCIDLen)
	}
	return c, nil
}

// jsonString decodes a JSON string literal into dst: plain ASCII without
// escapes directly, anything else through encoding/json.
func jsonString(raw json.RawMessage, dst *string) bool {
	if len(raw) >= 2 && raw[len(raw)-1] == '"' {
		plain := true
		for _, c := range raw[1 : len(raw)-1] {
			if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			*dst = string(raw[1 : len(raw)-1])
			return true
		}
	}
	return json.Unmarshal(raw, dst) == nil
}
