// Package event defines rumor's event: its fields, its canonical binary
// encoding, the per-origin hash chain and the batch seals that make any
// contiguous range of an origin's log verifiable back to the origin's key.
//
// An Event is immutable once its origin has appended it. Its Hash is the
// SHA-256 of its canonical encoding, and every event carries the hash of its
// predecessor from the same origin (Prev; all zero for seq 1). A Seal is the
// origin's Ed25519 signature over (origin, last seq, hash of the event at
// that seq): one signature per durable batch, not per event. VerifyRange
// checks a contiguous run of events against its predecessor's hash and a
// seal.
//
// Ingest requests arrive as JSON and are parsed by ParseInput, which
// validates every field before anything is stored.
package event
