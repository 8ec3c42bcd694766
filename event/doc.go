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
// A Redaction is a device's signed statement that one event's payload and
// blobs are to go. It carries the event's header, hash and Prev, so the
// redacted form of the event (Redaction.Stub, encoded behind its own
// version byte) takes the original's place in the hash chain and a run
// holding it still verifies against the original seal. It travels as the
// payload of a redaction event (type RedactionType) in the redactor's own
// log; who may redact what is the verifier's policy (Redaction.Authorize).
//
// Ingest requests arrive as JSON and are parsed by ParseInput, which
// validates every field before anything is stored.
package event
