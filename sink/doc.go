// Package sink archives a node's events to object storage as Parquet
// files, exactly once, for a node started with --role sink.
//
// # Layout
//
// The bucket (see OpenBucket: a directory, or any S3-compatible store)
// holds
//
//	events/date=YYYY-MM-DD/device=<id>/<first seq>-<last seq>.parquet
//	blobs/<cid>
//	redactions/log=<id>/<first>-<last>.parquet
//
// Each Parquet file holds the events of one origin device with seqs first
// to last, contiguous, one row per event (columns in Row), zstd-compressed,
// in one row group. The partition date is the UTC date of the time in the
// event id (a UUIDv7, set by the origin when it created the event; see
// PartitionDate): unlike ts, which clients set freely, it follows the seq
// order, and a file is cut wherever it changes, so a file always has
// exactly one date. The layout is Hive-style, so DuckDB
// (read_parquet('events/**/*.parquet', hive_partitioning=true)), Spark and
// pandas read it as one partitioned table. Every blob an archived event
// references is under blobs/ by CID before the file that references it.
//
// # Exactly once
//
// The bucket is the source of truth. On start the Archiver lists
// events/ and rebuilds, per device, the files it holds: the archived
// watermark (the highest seq such that every seq from 1 to it is in a
// file) and the first seq above it that some file already holds. A new
// file always starts right after the watermark and ends before that seq
// (Plan), so files never overlap, even when a restart uses other
// boundaries (--archive-rows, --archive-age) than the run that wrote
// them, or a crash left a gap. File names depend only on the range and
// the bytes only on the events (and their received times, which the store
// records once), so writing a range again rewrites the same object.
//
// A file is finished atomically: S3 shows an object only when its PUT or
// multipart upload completes; in a directory the file is written under a
// temporary name next to its final one, fsynced, renamed into place, and
// the directories fsynced. Temporary files a crash leaves are deleted at
// the next start. Only then does the watermark pass the file's events. A
// crash at any point therefore leaves each range either whole in the
// bucket or absent, and an absent range is written again after the
// restart. The watermarks are also cached in the node's database (Cache),
// but only to report them before the listing is done.
//
// One Archiver must own a bucket (or a prefix of one): two sinks writing
// the same bucket could choose different boundaries for the same events.
//
// # Closing files
//
// Plan, a pure function of the per-origin state, the limits and the time,
// closes a file when Config.Rows events are waiting (a full file) or when
// the oldest waiting event arrived Config.Age ago, so an idle origin's
// last events reach the archive within Age. Only events held with every
// seq before them are archived: a gap waits for anti-entropy to fill it.
//
// # Blobs
//
// Before a file is written, every blob its events reference is copied to
// blobs/<cid> unless the bucket already has it. A blob not held locally is
// fetched from peers (Config.Fetch, the replicator's FetchBlob, for at
// most Config.BlobWait). If it still cannot be had, the file ends before
// the event that references it, and that origin's archive waits, retried
// with backoff and logged, until the blob arrives: the watermark never
// passes an event whose blobs are not archived.
//
// # Redactions
//
// A redaction (event.Redaction) that takes effect on the sink reaches the
// archive in one of two ways, and the bucket shows the event redacted
// either way: its row has redacted = true, redacted_by, redacted_at,
// payload {} and no blobs (Row), as the API shows it.
//
//   - An event redacted before it is archived is read redacted from the
//     store (which never returns the payload of a redacted event) and
//     archived redacted.
//   - An event redacted after it was archived: the file that holds it is
//     rewritten, under the same name, with its row redacted (Row.Redact),
//     atomically like any upload. Files are not immutable, then, but a
//     file's bytes are still a function of its range alone: they are
//     what archiving the range from the store gives now (Row.Redact gives
//     exactly RowOf of the redacted event), so a crash and a re-upload, or
//     a rewrite racing with one, never yields two versions of a row or two
//     files of one range. This is what a DuckDB user of the bucket
//     expects: read_parquet over events/ never returns a redacted payload.
//     A consumer that copied a file before the redaction does not see the
//     rewrite: the manifest tells it what to redact in its copy. (Versions
//     an S3 bucket with versioning keeps, and copies outside the bucket,
//     are not touched.)
//
// Either way the redaction is recorded, exactly once, in the manifest:
// Parquet files under redactions/, one row per redaction (RedactionRow:
// the target's device_id, seq, event_id, type, ts, redacted_by,
// redacted_at, and the archive file that showed it redacted when it was
// recorded, NULL if it was not archived yet), in the order the
// redactions took effect on the sink (store.Redactions). A file holds
// the redactions numbered first to last (ManifestName), so its name
// depends only on its range; like event files, a manifest file is
// written only after what it describes is durable (the rewritten files,
// the deleted blobs), and the next one starts right after the last
// number the bucket holds, which the Archiver lists at start: a crash
// redoes the batch whose file is missing, idempotently, and never records
// a redaction twice. The numbers are the sink database's own; log=<id>
// names that database (Ledger). A sink whose database is lost starts a
// new log, reads the old logs at start and does not record their
// redactions again.
//
// Blobs: when a rewrite removes a row's blobs, each one that no other
// archived row references is deleted from blobs/ (the references of
// archived rows are kept in the Ledger; for an archive written before
// it, they are indexed from the files once, the first time a blob may
// go). A redaction removes the payload and blobs everywhere, and a blob
// is its content: keeping it in the archive would keep what the redaction
// removed. A blob still referenced by another archived row stays; one
// deleted and later referenced by an event archived afterwards is
// uploaded again with it.
//
// # Lifecycle
//
//	b, err := sink.OpenBucket(ctx, "s3://archive?endpoint=http://minio:9000&region=us-east-1&use_path_style=true")
//	cfg := sink.DefaultConfig()
//	cfg.Bucket, cfg.Events, cfg.Blobs = b, st, blobs
//	cfg.Redactions, cfg.Ledger = st, sink.NewLedger(st.DB(), []byte{store.PrefixSinkState})
//	a, err := sink.New(cfg)
//	go a.Run(ctx)          // lists the bucket, then archives as events commit
//	storeCfg.OnCommit = func(store.Commit) { a.Notify() }
//	a.Watermarks()         // per origin, for gossip and status
//	a.Files(sink.FileQuery{Device: id})
//	a.Manifests()          // the redaction manifest's files
//	// after Run returns:
//	a.Close()
package sink
