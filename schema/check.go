package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ErrInvalid is wrapped by every *Error: a payload that fails its schema.
var ErrInvalid = errors.New("schema: payload does not match")

// Error is a payload that fails the schema of its type and version.
type Error struct {
	Type    string // event type
	Version uint32 // schema version
	// Pointer is the JSON pointer (RFC 6901) into the payload of the
	// failing field: "" for the payload as a whole, and for a missing
	// required property the pointer it would have.
	Pointer string
	Reason  string // what is wrong there
}

// Error implements error.
func (e *Error) Error() string {
	at := e.Pointer
	if at == "" {
		at = "the payload"
	}
	return fmt.Sprintf("payload of type %q does not match schema version %d at %s: %s", e.Type, e.Version, at, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

var printer = message.NewPrinter(language.English)

// Check validates payload, a JSON object, against the schema registered
// for typ at version. A payload with no schema for its (type, version)
// passes. A failing one returns an *Error; a payload that is not JSON
// returns an error wrapping ErrInvalid too.
func (r *Registry) Check(typ string, version uint32, payload []byte) error {
	if r == nil {
		return nil
	}
	sch, ok := r.schemas[key{typ, version}]
	if !ok {
		return nil
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		return &Error{Type: typ, Version: version, Reason: "not valid JSON"}
	}
	v, err := decodeValid(payload)
	if err != nil {
		return &Error{Type: typ, Version: version, Reason: err.Error()}
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Type: typ, Version: version, Reason: err.Error()}
	}
	return mostSpecific(typ, version, ve)
}

// mostSpecific picks, of the leaf causes of ve, the failure at the
// deepest field (the most specific), breaking ties by pointer, then
// reason: the validator visits an object's properties in map order, so
// the order of causes is not deterministic, but the error must be.
func mostSpecific(typ string, version uint32, ve *jsonschema.ValidationError) *Error {
	var best *Error
	depth := -1
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) > 0 {
			for _, c := range v.Causes {
				walk(c)
			}
			return
		}
		sortNames(v.ErrorKind)
		e := &Error{Type: typ, Version: version, Pointer: pointer(v), Reason: v.ErrorKind.LocalizedString(printer)}
		d := len(v.InstanceLocation)
		if best == nil || d > depth || d == depth && (e.Pointer < best.Pointer || e.Pointer == best.Pointer && e.Reason < best.Reason) {
			best, depth = e, d
		}
	}
	walk(ve)
	return best
}

// pointer is the JSON pointer of the failing field of a leaf error: its
// instance location, extended by the property a required-style keyword
// names.
func pointer(ve *jsonschema.ValidationError) string {
	tokens := ve.InstanceLocation
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		tokens = appendFirst(tokens, k.Missing)
	case *kind.DependentRequired:
		tokens = appendFirst(tokens, k.Missing)
	case *kind.Dependency:
		tokens = appendFirst(tokens, k.Missing)
	case *kind.AdditionalProperties:
		tokens = appendFirst(tokens, k.Properties)
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// sortNames sorts the property names a keyword's error lists, which the
// validator collects in map order.
func sortNames(k jsonschema.ErrorKind) {
	switch k := k.(type) {
	case *kind.Required:
		slices.Sort(k.Missing)
	case *kind.DependentRequired:
		slices.Sort(k.Missing)
	case *kind.Dependency:
		slices.Sort(k.Missing)
	case *kind.AdditionalProperties:
		slices.Sort(k.Properties)
	}
}

func appendFirst(tokens, names []string) []string {
	if len(names) == 0 {
		return tokens
	}
	return append(tokens[:len(tokens):len(tokens)], names[0])
}

// JSONPointer returns e.Pointer, for callers that report the failing
// field without importing this package.
func (e *Error) JSONPointer() string { return e.Pointer }
