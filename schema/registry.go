package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rumor-sync/rumor/event"
)

// MaxFileBytes bounds a registry file.
const MaxFileBytes = 64 << 20

// ErrRegistry is wrapped by every error loading or parsing a registry.
var ErrRegistry = errors.New("schema: invalid registry")

// key names one schema: an event type and a schema version.
type key struct {
	typ     string
	version uint32
}

// Registry holds the compiled schemas. It is immutable once built and safe
// for concurrent use. A nil *Registry holds no schema: every payload
// passes.
type Registry struct {
	schemas map[key]*jsonschema.Schema
}

// Load reads and compiles the registry file at path.
func Load(path string) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("schema: registry file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("schema: registry file %s: %w", path, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrRegistry, path, MaxFileBytes)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("registry file %s: %w", path, err)
	}
	return r, nil
}

// Parse compiles a registry from the JSON of a registry file (see the
// package documentation for its format).
func Parse(b []byte) (*Registry, error) {
	types, err := objectEntries(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	r := &Registry{schemas: map[key]*jsonschema.Schema{}}
	for _, t := range types {
		if err := r.addType(c, t.name, t.value); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Registry) addType(c *jsonschema.Compiler, typ string, raw json.RawMessage) error {
	if typ == "" || len(typ) > event.MaxTypeLen {
		return fmt.Errorf("%w: type %q: an event type is 1 to %d bytes", ErrRegistry, typ, event.MaxTypeLen)
	}
	versions, err := objectEntries(raw)
	if err != nil {
		return fmt.Errorf("%w: type %q: %v (want an object of versions to schemas)", ErrRegistry, typ, err)
	}
	for _, v := range versions {
		n, err := strconv.ParseUint(v.name, 10, 32)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != v.name {
			return fmt.Errorf("%w: type %q: version %q is not an integer from 1 to 4294967295", ErrRegistry, typ, v.name)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(v.value))
		if err != nil {
			return fmt.Errorf("%w: type %q version %d: %v", ErrRegistry, typ, n, err)
		}
		loc := "rumor-schema:///" + url.PathEscape(typ) + "/" + v.name
		if err := c.AddResource(loc, doc); err != nil {
			return fmt.Errorf("%w: type %q version %d: %v", ErrRegistry, typ, n, err)
		}
		sch, err := c.Compile(loc)
		if err != nil {
			return fmt.Errorf("%w: type %q version %d: %v", ErrRegistry, typ, n, err)
		}
		r.schemas[key{typ, uint32(n)}] = sch
	}
	return nil
}

// Len returns the number of (type, version) schemas held.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.schemas)
}

// Has reports whether a schema is registered for typ at version.
func (r *Registry) Has(typ string, version uint32) bool {
	if r == nil {
		return false
	}
	_, ok := r.schemas[key{typ, version}]
	return ok
}

// noLoader refuses every external $ref: a registry is self-contained.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("%s: a schema may only $ref into the registry file itself", u)
}

// entry is one member of a JSON object, in file order.
type entry struct {
	name  string
	value json.RawMessage
}

// objectEntries decodes a JSON object's members in order, refusing
// duplicate names and anything after the object.
func objectEntries(b []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, syntaxError(b, err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(b, err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, fmt.Errorf("key %q appears twice", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, syntaxError(b, err)
		}
		out = append(out, entry{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// syntaxError adds the line of a JSON syntax error.
func syntaxError(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(b)) {
		return fmt.Errorf("line %d: %v", bytes.Count(b[:se.Offset], []byte("\n"))+1, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON")
	}
	return err
}
