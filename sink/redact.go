package sink

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Redactions on a sink (see the package documentation, "Redactions").
//
// After the files due are written, RunOnce takes the redactions that took
// effect in the store since the last one recorded (the cursor), up to
// maxManifestRows, and
//
//  1. rewrites, under the same name, every archived file that holds one of
//     their targets, with the rows of every redacted event in it redacted
//     (Row.Redact), after dropping those rows' blob references from the
//     Ledger and queueing their blobs for deletion (one transaction);
//  2. deletes from the bucket each queued blob no archived row references
//     any more;
//  3. writes the manifest file of the batch, then moves the cursor past it.
//
// Every step is idempotent and each depends only on the bucket and the
// store, so a crash anywhere redoes the batch: a file already rewritten
// reads back redacted and is left alone, a blob already deleted is
// deleted again, and the manifest file, whose name is the batch's range of
// redaction numbers, is written once (the cursor after a restart is the
// last number the bucket's manifest holds, so a batch whose manifest file
// landed is never redone).

// maxManifestRows bounds one manifest file (and one batch); a variable for
// the tests.
var maxManifestRows = 10_000

// redactionsRetry is the retry key of the redaction step (no device id
// has a '/').
const redactionsRetry = "redactions/"

// manifestState is the redaction manifest as the Archiver knows it.
type manifestState struct {
	log       string            // this sink's log id (Ledger)
	cursor    uint64            // the last redaction number the bucket's manifest holds
	foreign   map[crdt.Dot]bool // targets recorded in other logs (a lost database's)
	manifests []Manifest        // this log's files, by First (guarded by Archiver.mu)
}

// numbered is a redaction with its number in the store.
type numbered struct {
	n uint64
	r *event.Redaction
}

// recoverManifest lists redactions/: this log's files give the cursor,
// other logs' files the targets not to record again. Temporary files of a
// directory bucket are added to temps. emptyArchive says that events/
// holds no file, so the blob references are complete.
func (a *Archiver) recoverManifest(ctx context.Context, emptyArchive bool, temps *[]string) error {
	if a.cfg.Redactions == nil {
		return nil
	}
	l := a.cfg.Ledger
	log, err := l.logID()
	if err != nil {
		return err
	}
	var own, other []Manifest
	err = a.cfg.Bucket.List(ctx, RedactionsPrefix, func(key string, size int64) error {
		m, err := ParseManifestName(key)
		switch {
		case err == nil && m.Log == log:
			m.Bytes = size
			own = append(own, m)
		case err == nil:
			other = append(other, m)
		case isFileTemp(key):
			*temps = append(*temps, key)
		default:
			a.log.Debug("ignoring a key that is no manifest file", "key", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sink: list manifest: %w", err)
	}
	st := manifestState{log: log, foreign: map[crdt.Dot]bool{}}
	slices.SortFunc(own, func(x, y Manifest) int { return cmp.Compare(x.First, y.First) })
	for _, m := range own {
		st.cursor = max(st.cursor, m.Last)
	}
	st.manifests = own
	for _, m := range other { // a lost database's log: what it recorded is not recorded again
		data, err := a.cfg.Bucket.Get(ctx, m.Name)
		if err != nil {
			return err
		}
		rows, err := DecodeParquet[RedactionRow](data)
		if err != nil {
			return fmt.Errorf("sink: %s: %w", m.Name, err)
		}
		for _, r := range rows {
			st.foreign[crdt.Dot{Origin: r.DeviceID, Seq: uint64(r.Seq)}] = true
		}
	}
	if len(other) > 0 {
		a.log.Info("the manifest holds other logs (a sink database that was lost); their redactions are not recorded again",
			"log", log, "other_files", len(other), "redactions", len(st.foreign))
	}
	if cached, err := l.cursor(); err != nil || cached != st.cursor {
		if err := l.saveCursor(st.cursor); err != nil {
			a.log.Warn("cache manifest cursor", "err", err)
		}
	}
	if emptyArchive {
		if err := l.markRefsComplete(); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.man = st
	a.mu.Unlock()
	return nil
}

// recordRedactions handles the next batch of redactions (see above) and
// returns how many files it wrote (rewritten archive files and the
// manifest file).
func (a *Archiver) recordRedactions(ctx context.Context) (int, error) {
	if a.cfg.Redactions == nil {
		return 0, nil
	}
	var batch []numbered
	errFull := errors.New("batch full")
	err := a.cfg.Redactions.Redactions(a.man.cursor, func(n uint64, r *event.Redaction) error {
		batch = append(batch, numbered{n, r})
		if len(batch) == maxManifestRows {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return 0, fmt.Errorf("sink: read redactions: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	files := map[string]File{}
	a.mu.Lock()
	for _, x := range batch {
		if f, ok := a.ix.fileOf(x.r.Device, x.r.Seq); ok {
			files[f.Name] = f
		}
	}
	a.mu.Unlock()
	rewritten := 0
	redactedIn := map[crdt.Dot]string{} // target → the file that shows it redacted
	for _, name := range sortedKeys(files) {
		dots, rewrote, err := a.rewrite(ctx, files[name])
		if err != nil {
			return rewritten, err
		}
		for _, d := range dots {
			redactedIn[d] = name
		}
		if rewrote {
			rewritten++
		}
	}
	written := rewritten
	if err := a.deletePendingBlobs(ctx); err != nil {
		return written, err
	}
	var rows []RedactionRow
	for _, x := range batch {
		d := crdt.Dot{Origin: x.r.Device, Seq: x.r.Seq}
		if !a.man.foreign[d] {
			rows = append(rows, RedactionRowOf(x.r, redactedIn[d]))
		}
	}
	first, last := batch[0].n, batch[len(batch)-1].n
	if len(rows) > 0 {
		data, err := encodeRows(rows)
		if err != nil {
			return written, err
		}
		m := Manifest{Name: ManifestName(a.man.log, first, last), Log: a.man.log, First: first, Last: last, Bytes: int64(len(data))}
		if err := a.cfg.Bucket.Put(ctx, m.Name, ContentType, bytes.NewReader(data)); err != nil {
			a.uploadFailed()
			return written, err
		}
		written++
		a.mu.Lock()
		a.man.manifests = append(a.man.manifests, m)
		a.mu.Unlock()
	}
	a.mu.Lock()
	a.man.cursor = last
	a.mu.Unlock()
	if err := a.cfg.Ledger.saveCursor(last); err != nil {
		a.log.Warn("cache manifest cursor", "err", err)
	}
	if o, ok := a.cfg.Observer.(RedactionObserver); ok {
		o.RedactionsRecorded(len(rows))
	}
	a.log.Info("recorded redactions in the archive manifest", "first", first, "last", last,
		"recorded", len(rows), "files_rewritten", rewritten)
	return written, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rewrite rewrites archived file f with every row whose event has a
// redaction in effect redacted, if any is not yet. It returns the dots of
// the rows f shows redacted afterwards and whether it wrote f.
func (a *Archiver) rewrite(ctx context.Context, f File) ([]crdt.Dot, bool, error) {
	data, err := a.cfg.Bucket.Get(ctx, f.Name)
	if err != nil {
		return nil, false, err
	}
	rows, err := DecodeParquet[Row](data)
	if err != nil {
		return nil, false, fmt.Errorf("sink: %s: %w", f.Name, err)
	}
	var dots []crdt.Dot
	var drops []blobRef
	changed := false
	for i := range rows {
		row := &rows[i]
		d := crdt.Dot{Origin: row.DeviceID, Seq: uint64(row.Seq)}
		if row.DeviceID != f.Device || d.Seq < f.First || d.Seq > f.Last {
			return nil, false, fmt.Errorf("sink: %s holds a row of %s/%d", f.Name, row.DeviceID, row.Seq)
		}
		if row.Redacted {
			dots = append(dots, d)
			continue
		}
		x, ok := a.cfg.Redactions.Redaction(d)
		if !ok {
			continue
		}
		if !row.Targets(x) {
			a.log.Error("a redaction does not match the archived event (forked origin?); the row is left as it is",
				"file", f.Name, "device", d.Origin, "seq", d.Seq, "event_id", row.EventID, "redaction_event_id", x.ID.String())
			continue
		}
		for _, s := range row.Blobs {
			c, err := cid.Decode(s)
			if err != nil {
				return nil, false, fmt.Errorf("sink: %s: row %d: blob %q: %w", f.Name, d.Seq, s, err)
			}
			drops = append(drops, blobRef{c: c, d: d})
		}
		row.Redact(x)
		changed = true
		dots = append(dots, d)
	}
	if !changed {
		return dots, false, nil
	}
	enc, err := EncodeParquet(rows)
	if err != nil {
		return nil, false, err
	}
	if err := a.cfg.Ledger.redactRefs(drops); err != nil {
		return nil, false, fmt.Errorf("sink: queue redacted blobs: %w", err)
	}
	if err := a.cfg.Bucket.Put(ctx, f.Name, ContentType, bytes.NewReader(enc)); err != nil {
		a.uploadFailed()
		return nil, false, err
	}
	f.Bytes = int64(len(enc))
	a.mu.Lock()
	a.ix.add(f)
	a.mu.Unlock()
	if o, ok := a.cfg.Observer.(RedactionObserver); ok {
		o.FileRewritten(f.Bytes)
	}
	a.log.Info("rewrote an archive file with redacted events", "file", f.Name, "bytes", f.Bytes)
	return dots, true, nil
}

// deletePendingBlobs deletes from the bucket each blob a rewrite queued
// that no archived row references any more. The references are made
// complete first (backfillRefs) if the Ledger does not cover the whole
// archive yet.
func (a *Archiver) deletePendingBlobs(ctx context.Context) error {
	l := a.cfg.Ledger
	pend, err := l.pending()
	if err != nil || len(pend) == 0 {
		return err
	}
	complete, err := l.refsComplete()
	if err != nil {
		return err
	}
	if !complete {
		if err := a.backfillRefs(ctx); err != nil {
			return err
		}
	}
	deleted := 0
	for _, c := range pend {
		ref, err := l.referenced(c)
		if err != nil {
			return err
		}
		if !ref {
			if err := a.cfg.Bucket.Delete(ctx, BlobKey(c)); err != nil {
				return err
			}
			a.forgetBlob(c)
			deleted++
			if o, ok := a.cfg.Observer.(RedactionObserver); ok {
				o.BlobDeleted()
			}
		}
		if err := l.donePending(c); err != nil {
			return err
		}
	}
	a.log.Info("deleted the archived blobs of redacted events", "blobs", deleted, "kept_referenced", len(pend)-deleted)
	return nil
}

// forgetBlob drops c from the blobs known to be in the bucket, so that an
// event archived later that references it uploads it again.
func (a *Archiver) forgetBlob(c cid.Cid) {
	a.blobMu.Lock()
	delete(a.blobsDone, BlobKey(c))
	a.blobMu.Unlock()
}

// backfillRefs records the blob references of every archived file, for
// an archive written before the Ledger kept them (or by a database that
// was lost): it reads each file once.
func (a *Archiver) backfillRefs(ctx context.Context) error {
	a.mu.Lock()
	files := a.ix.all()
	a.mu.Unlock()
	a.log.Info("indexing the blob references of the archive once", "files", len(files))
	for _, f := range files {
		data, err := a.cfg.Bucket.Get(ctx, f.Name)
		if err != nil {
			return err
		}
		rows, err := DecodeParquet[Row](data)
		if err != nil {
			return fmt.Errorf("sink: %s: %w", f.Name, err)
		}
		refs, err := rowRefs(rows)
		if err != nil {
			return fmt.Errorf("sink: %s: %w", f.Name, err)
		}
		if err := a.cfg.Ledger.addRefs(refs); err != nil {
			return err
		}
	}
	return a.cfg.Ledger.markRefsComplete()
}

// noteRefs records the blob references of rows about to be archived.
func (a *Archiver) noteRefs(rows []Row) error {
	if a.cfg.Ledger == nil {
		return nil
	}
	refs, err := rowRefs(rows)
	if err == nil {
		err = a.cfg.Ledger.addRefs(refs)
	}
	return err
}

// rowRefs returns the blob references of rows.
func rowRefs(rows []Row) ([]blobRef, error) {
	var out []blobRef
	for _, r := range rows {
		for _, s := range r.Blobs {
			c, err := cid.Decode(s)
			if err != nil {
				return nil, fmt.Errorf("row %d: blob %q: %w", r.Seq, s, err)
			}
			out = append(out, blobRef{c: c, d: crdt.Dot{Origin: r.DeviceID, Seq: uint64(r.Seq)}})
		}
	}
	return out, nil
}

// RedactionObserver is implemented by an Observer that is also told about
// redactions (metrics.Archive does). Its methods must not block.
type RedactionObserver interface {
	// RedactionsRecorded: a manifest file of n redactions is durable.
	RedactionsRecorded(n int)
	// FileRewritten: an archive file was rewritten with redacted rows.
	FileRewritten(bytes int64)
	// BlobDeleted: a redacted event's blob was deleted from the bucket.
	BlobDeleted()
}

// Manifests returns the files of this sink's redaction manifest, in
// order, and the last redaction number they hold (0 before the bucket is
// listed).
func (a *Archiver) Manifests() ([]Manifest, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.man.manifests), a.man.cursor
}
