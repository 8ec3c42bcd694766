// Package node is one rumor device: it wires the identity, the durable
// store, the blob store, the HTTP API and the clock together.
//
// Lifecycle: build a Config from DefaultConfig, call New (which opens or
// creates the data directory, its Ed25519 identity and its databases), then
// Run, which serves the API until its context ends and then shuts down
// gracefully: it stops accepting requests, lets in-flight requests and
// commits finish, and closes the databases. Close releases a node that was
// never run.
package node
