package node

import (
	"fmt"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/schema"
)

// payloadCheck validates an ingested payload against the schema registry.
type payloadCheck func(typ string, version uint32, payload []byte) error

// loadSchemas loads the registry of cfg.SchemasFile, if any; a bad file
// stops the node from starting.
func (n *Node) loadSchemas() error {
	if n.cfg.SchemasFile == "" {
		return nil
	}
	r, err := schema.Load(n.cfg.SchemasFile)
	if err != nil {
		return fmt.Errorf("node: schemas: %w", err)
	}
	n.schemas = r
	n.log.Info("schema registry loaded", "file", n.cfg.SchemasFile, "schemas", r.Len())
	return nil
}

// payloadCheck returns the registry's check for ingest (HTTP, MQTT), or
// nil when the node has no registry.
func (n *Node) payloadCheck() payloadCheck {
	if n.schemas == nil {
		return nil
	}
	return n.schemas.Check
}

// eventCheck returns the registry's check for events received from peers,
// or nil when the node has no registry.
func (n *Node) eventCheck() func(*event.Event) error {
	if n.schemas == nil {
		return nil
	}
	return func(e *event.Event) error { return n.schemas.Check(e.Type, e.Schema, e.Payload) }
}
