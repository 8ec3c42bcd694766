package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxPatchBytes bounds the JSON of one change.
const MaxPatchBytes = 16 << 10

// Patch is a change to some settings: the fields that are set.
type Patch struct {
	Push            *bool
	SyncInterval    *time.Duration
	SyncFanout      *int
	BlobPolicy      *BlobPolicy
	SyncBatchBytes  *int
	SyncRunBytes    *int
	PushInlineBytes *int
	PeerBandwidth   *int64
}

// Keys returns the JSON names of the settings p sets, in key order.
func (p Patch) Keys() []string {
	var out []string
	set := []bool{p.Push != nil, p.SyncInterval != nil, p.SyncFanout != nil, p.BlobPolicy != nil,
		p.SyncBatchBytes != nil, p.SyncRunBytes != nil, p.PushInlineBytes != nil, p.PeerBandwidth != nil}
	for i, k := range Keys() {
		if set[i] {
			out = append(out, k)
		}
	}
	return out
}

// Apply returns s with p's settings in place of its own.
func (p Patch) Apply(s Settings) Settings {
	setIf(&s.Push, p.Push)
	setIf(&s.SyncInterval, p.SyncInterval)
	setIf(&s.SyncFanout, p.SyncFanout)
	setIf(&s.BlobPolicy, p.BlobPolicy)
	setIf(&s.SyncBatchBytes, p.SyncBatchBytes)
	setIf(&s.SyncRunBytes, p.SyncRunBytes)
	setIf(&s.PushInlineBytes, p.PushInlineBytes)
	setIf(&s.PeerBandwidth, p.PeerBandwidth)
	return s
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// MarshalJSON encodes the settings p sets, as DecodePatch reads them.
func (p Patch) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if p.SyncInterval != nil {
		m[KeySyncInterval] = p.SyncInterval.String()
	}
	for k, v := range map[string]any{KeyPush: p.Push, KeySyncFanout: p.SyncFanout, KeyBlobPolicy: p.BlobPolicy,
		KeySyncBatchBytes: p.SyncBatchBytes, KeySyncRunBytes: p.SyncRunBytes, KeyPushInlineBytes: p.PushInlineBytes,
		KeyPeerBandwidth: p.PeerBandwidth} {
		if !isNilPtr(v) {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func isNilPtr(v any) bool {
	switch v := v.(type) {
	case *bool:
		return v == nil
	case *int:
		return v == nil
	case *int64:
		return v == nil
	case *BlobPolicy:
		return v == nil
	}
	return true
}

// DecodePatch reads a change from JSON: one object whose keys are
// setting names (see Keys) with values as Settings.MarshalJSON writes
// them. Unknown, repeated or mistyped keys, null values, trailing data and
// bodies over MaxPatchBytes are errors (wrapping ErrInvalid, a *FieldError
// when one setting is to blame). It does not check ranges; see
// Settings.Validate.
func DecodePatch(b []byte) (Patch, error) {
	var p Patch
	if len(b) > MaxPatchBytes {
		return p, fmt.Errorf("%w: the body is over %d bytes", ErrInvalid, MaxPatchBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return p, fmt.Errorf(`%w: the body must be a JSON object of settings, e.g. {"push": false}`, ErrInvalid)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return p, fmt.Errorf("%w: malformed JSON: %v", ErrInvalid, err)
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p, fieldErr(key, "malformed JSON value: %v", err)
		}
		if seen[key] {
			return p, fieldErr(key, "given twice")
		}
		seen[key] = true
		if err := p.set(key, raw); err != nil {
			return p, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return p, fmt.Errorf("%w: malformed JSON: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p, fmt.Errorf("%w: data after the JSON object", ErrInvalid)
	}
	return p, nil
}

// set decodes one key's value into p.
func (p *Patch) set(key string, raw json.RawMessage) error {
	if string(raw) == "null" {
		return fieldErr(key, "has no value (null)")
	}
	var err error
	switch key {
	case KeyPush:
		p.Push, err = decodeBool(raw)
	case KeySyncInterval:
		p.SyncInterval, err = decodeDuration(raw)
	case KeySyncFanout:
		p.SyncFanout, err = decodeInt[int](raw, "a whole number of peers")
	case KeyBlobPolicy:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return fieldErr(key, "want a string: %q, %q or %q", Eager, OnDemand, SinksOnly)
		}
		bp := BlobPolicy(s)
		p.BlobPolicy = &bp
	case KeySyncBatchBytes:
		p.SyncBatchBytes, err = decodeInt[int](raw, "a whole number of bytes")
	case KeySyncRunBytes:
		p.SyncRunBytes, err = decodeInt[int](raw, "a whole number of bytes")
	case KeyPushInlineBytes:
		p.PushInlineBytes, err = decodeInt[int](raw, "a whole number of bytes")
	case KeyPeerBandwidth:
		p.PeerBandwidth, err = decodeInt[int64](raw, "a whole number of bytes per second (0 is unlimited)")
	default:
		return fieldErr(key, "unknown setting; the settings are %s", strings.Join(Keys(), ", "))
	}
	if err != nil {
		return &FieldError{Key: key, Msg: err.Error()}
	}
	return nil
}

func decodeBool(raw json.RawMessage) (*bool, error) {
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return nil, errors.New("want true or false")
	}
	return &v, nil
}

func decodeDuration(raw json.RawMessage) (*time.Duration, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, errors.New(`want a duration string such as "2s" or "500ms"`)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf(`%q is not a duration such as "2s" or "500ms"`, s)
	}
	return &d, nil
}

func decodeInt[T int | int64](raw json.RawMessage, what string) (*T, error) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return nil, fmt.Errorf("want %s", what)
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s is not %s", n, what)
	}
	t := T(v)
	return &t, nil
}
