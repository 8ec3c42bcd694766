// Package store is a node's durable replica: the append-only event log, its
// indexes, the causal context and the analytics aggregates, all in one data
// directory.
//
// Layout. Event bodies (their canonical encodings) are appended to segment
// files of our own (log/NNNNNNNN.seg); badger holds everything else: the
// (origin, seq) → segment location index, the event_id index, each origin's
// causal-context entry, the aggregates, the origin seals and a checkpoint
// (the segment offset up to which the badger state is complete). This is
// the split badger itself makes between keys and values, and it lets
// ingest reach the segment's fdatasync speed instead of badger's.
//
// Write path. Ingest hands inputs to a single writer goroutine, which
// assigns seqs, ids and chain hashes and appends one record per group to
// the current segment. A syncer goroutine takes every record written since
// its last pass and issues one fdatasync for all of them (group commit).
// Once that returns the requests are acknowledged: they are durable. An
// indexer goroutine then commits one badger transaction holding their
// index entries, context, aggregates, seals and checkpoint (asynchronously,
// so the next transaction is built while badger applies this one). The
// stages overlap: while one batch is indexed the next is being synced and
// the one after written. Every read first waits until everything
// acknowledged so far is indexed (waitIndexed), so a client reads its own
// writes, and nothing is visible to readers before it is durable.
//
// Retention. Prune removes the raw events of an origin up to a floor
// (prune.go) while their dots stay in the context and their aggregates
// stay; segment files come back once none of their events is indexed. A
// snapshot (snapshot.go, install.go) lets an empty store adopt a
// neighbour's context, aggregates and floors. Their state lives under the
// key prefix 'p' (floors, sinks' archived watermarks, a join marker).
// Prune also drops the blob references of the events it removes and
// settles their pending erasures (prune_redact.go); their redaction
// records stay.
//
// Recovery. Badger is written without its own fsync: the segment is the
// write-ahead log. On open the store reads the checkpoint and re-applies the
// records after it; re-application is idempotent because an event whose dot
// is already in the persisted context is skipped, and context and
// aggregates always commit in the same transaction. A torn record at the
// tail of the last segment (a crash mid-write, never acknowledged) is
// truncated away. Restart therefore reads only the tail, never the whole
// log.
//
// Time order. The writer's event.IDGen is the node's hybrid logical
// clock: an event id's first 8 bytes are its HLC stamp. The writer
// advances it past every remote event it appends (unless the stamp is more
// than Config.MaxClockSkew ahead of the clock: counted in ClockSkewed,
// not followed), so local ids are above everything the node has seen, and
// restores it on open. ScanTime reads the time-ordered view (HLC, device,
// seq) from the event_id index, whose buckets are in millisecond order
// (idindex.go). An id copied from another event (only a misbehaving
// device makes one) is indexed for both events: the view lists both, and
// GetByID names the smaller dot, on every replica.
//
// Redaction. A redaction (event.Redaction) is carried by a redaction
// event and takes effect in the indexer's transaction of that event, if
// its signature and its redactor's right (Config.Operators) check out:
// the store records it under the 'x' prefix, takes the target's share out
// of the aggregates, drops its blob references and queues its bytes for
// erasure. From then on every read (Get, GetByID, Scan, ReadRun) returns
// the target in redacted form (event.Redaction.Stub), which keeps its hash
// and so its place in the chain; a whole copy arriving later is written
// redacted, never with its payload. An eraser goroutine overwrites the
// payload in the segment once the durable checkpoint has passed it (see
// redact_erase.go for exactly what stays on disk). Redactions lists them
// in the order they took effect, for sinks; BlobsToRelease the blobs no
// event references any more. See redact_index.go for the order-independence
// argument.
//
// Concurrency. The writer goroutine owns seq assignment and the segment's
// write offset; the indexer goroutine owns badger writes, its working
// copy of the context and the aggregates cache. Readers take Store.mu (read) to see the
// committed context; the indexer takes it (write) only to publish a commit.
// There is no other lock in the write path; segment readers are guarded by
// segments.mu, which is never held while taking Store.mu. Lock order:
// Store.idxMu (readers waiting for the index) before Store.mu.
package store
