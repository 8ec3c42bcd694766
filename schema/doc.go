// Package schema is the optional payload schema registry of a node
// (rumor node --schemas FILE): for an event type and schema version, a
// JSON Schema its payloads must satisfy.
//
// The registry file is one JSON object mapping each event type to an
// object that maps schema versions (decimal integers from 1, as object
// keys) to a JSON Schema:
//
//	{
//	  "door.open": {
//	    "1": {"type": "object", "required": ["door"],
//	          "properties": {"door": {"type": "string"}, "value": {"type": "number"}}},
//	    "2": {"type": "object", "required": ["door", "by"]}
//	  }
//	}
//
// Schemas are JSON Schema draft 2020-12 unless they name another draft
// with $schema (4, 6, 7 and 2019-09 are understood); "format" is
// asserted; "pattern" uses Go's regexp syntax (RE2); a $ref may point
// only into the same file's schema (no network, no files). A file that is
// not valid JSON, repeats a key, names a version that is not an integer
// from 1 to 4294967295, or holds a schema that does not compile is an
// error naming the type and version, and the node does not start.
//
// Check validates one payload. An event whose (type, version) has no
// schema passes: the registry constrains only what it names. A failing
// payload gives an *Error naming the JSON pointer (RFC 6901) of the
// failing field.
//
// Use in a mesh. A node checks events at ingest (HTTP and MQTT) and,
// before applying them, events received from peers; receivers check only
// the (type, version) pairs they have a schema for, so nodes with
// different registries still interoperate during a rollout. Events are
// hash-chained and arrive in sealed runs whose seal vouches for the run's
// last event, so a receiver cannot drop one event and keep its
// predecessors: when a received run holds a failing event, that event
// and the run's events before it are refused, the events after it (still
// covered by the seal) are applied. The node keeps syncing the origin's
// later events, shows the gap in its health (completeness below 1) and
// counts each refusal. The refused events are offered again at every
// session and accepted once the registries agree, so fixing the registry
// heals the gap without losing data; until then each session spends
// their bytes again. Keep one registry across a mesh, and treat a
// published (type, version) schema as immutable: change a payload's shape
// by adding a version.
//
// The package is pure: no I/O beyond Load reading the file.
package schema
