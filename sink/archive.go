package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

type eventT = event.Event

// ContentType is the media type of the archive's Parquet files.
const ContentType = "application/vnd.apache.parquet"

// scanFrom selects up to n events of device from seq on.
func scanFrom(device string, seq uint64, n int) store.Query {
	return store.Query{Device: device, After: seq - 1, Limit: n}
}

// batch is the events of one file being written.
type batch struct {
	rows  []Row
	blobs map[int][]cid.Cid // row index → the blobs it references
	date  string
}

// archive writes one file for task t: its events from t.First on, up to
// t.Last, a change of partition date or an event whose blob cannot be
// archived, whichever comes first. The blobs go to the bucket before the
// file; once the file is durable the watermark passes its last event.
func (a *Archiver) archive(ctx context.Context, t Task) error {
	b, err := a.read(t)
	if err != nil {
		return err
	}
	n, err := a.archiveBlobs(ctx, b)
	if n == 0 {
		return err
	}
	if err != nil {
		a.log.Warn("archiving the events before a missing blob", "device", t.Device, "seq", t.First+uint64(n), "err", err)
	}
	rows := b.rows[:n]
	data, err := EncodeParquet(rows)
	if err != nil {
		return err
	}
	if err := a.noteRefs(rows); err != nil {
		return err
	}
	f := File{Device: t.Device, Date: b.date, First: t.First, Last: t.First + uint64(n) - 1, Bytes: int64(len(data))}
	f.Name = FileName(f.Date, f.Device, f.First, f.Last)
	if err := a.cfg.Bucket.Put(ctx, f.Name, ContentType, bytes.NewReader(data)); err != nil {
		a.uploadFailed()
		return err
	}
	a.mu.Lock()
	a.ix.add(f)
	wm := a.ix.watermark(f.Device)
	a.mu.Unlock()
	if a.cfg.Cache != nil {
		if err := a.cfg.Cache.Save(f.Device, wm); err != nil {
			a.log.Warn("cache archived watermark", "device", f.Device, "err", err)
		}
	}
	if a.cfg.Observer != nil {
		a.cfg.Observer.FileArchived(n, f.Bytes)
	}
	a.log.Debug("archived", "file", f.Name, "events", n, "bytes", f.Bytes, "watermark", wm)
	return nil
}

// read returns the rows of t's events, contiguous from t.First, up to
// t.Last or the last event of t.First's partition date.
func (a *Archiver) read(t Task) (*batch, error) {
	b := &batch{blobs: map[int][]cid.Cid{}}
	errEnd := errors.New("end of file")
	next, day := t.First, int64(-1)
	err := a.cfg.Events.ScanReceived(scanFrom(t.Device, t.First, int(t.Last-t.First+1)), func(e *event.Event, at int64) error {
		d := partitionDay(e)
		if e.Seq != next || (day >= 0 && d != day) {
			return errEnd
		}
		if day < 0 {
			day, b.date = d, dayDate(d)
		}
		if len(e.Blobs) > 0 {
			b.blobs[len(b.rows)] = e.Blobs
		}
		b.rows = append(b.rows, RowOf(e, at))
		next++
		return nil
	})
	if err != nil && !errors.Is(err, errEnd) {
		return nil, fmt.Errorf("sink: read %s from %d: %w", t.Device, t.First, err)
	}
	if len(b.rows) == 0 {
		return nil, fmt.Errorf("sink: event %s/%d is not in the store", t.Device, t.First)
	}
	return b, nil
}

func (a *Archiver) uploadFailed() {
	if a.cfg.Observer != nil {
		a.cfg.Observer.UploadFailed()
	}
}
