// Package api is the node's HTTP JSON API: event ingest and queries, status,
// aggregates and blobs. It validates every request before it touches the
// store, answers errors as {"error": "..."} with a status code that says
// what went wrong, and never changes state on a rejected request.
//
// The server depends only on the small EventStore and BlobStore interfaces
// it declares; the node passes its store.Store and cas.Store.
package api
