package sink

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// wantTypes are the DuckDB types of the archive's columns (the partition
// columns date and device are DuckDB's reading of the Hive layout).
var wantTypes = map[string]string{
	"event_id": "VARCHAR", "device_id": "VARCHAR", "seq": "BIGINT",
	"ts": "TIMESTAMP WITH TIME ZONE", "type": "VARCHAR", "schema": "BIGINT",
	"payload": "JSON", "blobs": "VARCHAR[]", "received_at": "TIMESTAMP WITH TIME ZONE",
	"redacted": "BOOLEAN", "redacted_by": "VARCHAR", "redacted_at": "TIMESTAMP WITH TIME ZONE",
	"filename": "VARCHAR", "date": "DATE", "device": "VARCHAR",
}

// checkArchive reads the archive under root with DuckDB and checks it row
// by row against every event st holds up to the watermarks: each exactly
// once, with every column equal, in the file its name promises; every
// referenced blob under blobs/ with its bytes; and no other file at all
// (no temporary or half-written one).
func checkArchive(t testing.TB, root string, st *store.Store, wm map[string]uint64, blobData map[string][]byte) int {
	t.Helper()
	types, rows := duckRead(t, root)
	for col, want := range wantTypes {
		if types[col] != want {
			t.Errorf("column %s has DuckDB type %q, want %q", col, types[col], want)
		}
	}
	var want []storedEvent
	for _, se := range stored(t, st) {
		if se.e.Seq <= wm[se.e.Device] {
			want = append(want, se)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("archive holds %d rows, the store %d events below the watermarks", len(rows), len(want))
	}
	files := map[string]bool{}
	for i, r := range rows {
		se := want[i]
		e := se.e
		blobs := make([]string, len(e.Blobs))
		for j, c := range e.Blobs {
			blobs[j] = c.String()
		}
		rel, err := filepath.Rel(root, r.File)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFileName(filepath.ToSlash(rel))
		switch {
		case err != nil:
			t.Fatalf("row %d in %s: %v", i, r.File, err)
		case r.EventID != e.ID.String() || r.DeviceID != e.Device || r.Seq != e.Seq || r.TS != e.TS ||
			r.Type != e.Type || r.Schema != int64(e.Schema) || !sameRedaction(r, e) ||
			!slices.Equal(r.Blobs, blobs) || r.ReceivedAt != se.at:
			t.Fatalf("row %d = %+v; event %s/%d = %+v received %d", i, r, e.Device, e.Seq, e.ToJSON(), se.at)
		case f.Device != e.Device || f.Date != PartitionDate(e) || e.Seq < f.First || e.Seq > f.Last ||
			r.Date != f.Date || r.Device != f.Device:
			t.Fatalf("event %s/%d (date %s) is in %s", e.Device, e.Seq, PartitionDate(e), rel)
		}
		files[filepath.ToSlash(rel)] = true
		for _, c := range blobs {
			b, err := os.ReadFile(filepath.Join(root, "blobs", c))
			if err != nil || !bytes.Equal(b, blobData[c]) {
				t.Fatalf("blob %s of %s/%d: %d bytes, %v", c, e.Device, e.Seq, len(b), err)
			}
			files["blobs/"+c] = true
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if _, err := ParseManifestName(filepath.ToSlash(rel)); err == nil {
			return nil // checked by checkManifest
		}
		if !files[filepath.ToSlash(rel)] {
			t.Errorf("unexpected file in the archive: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// sameRedaction reports whether row r shows e's payload, or e's redaction
// (payload {}, who and when) when e is redacted.
func sameRedaction(r duckRow, e *event.Event) bool {
	if x := e.Redaction; x != nil {
		return r.Payload == "{}" && r.Redacted && r.RedactedBy != nil && *r.RedactedBy == x.Redactor &&
			r.RedactedAt != nil && *r.RedactedAt == strconv.FormatInt(x.At, 10)
	}
	return r.Payload == string(e.Payload) && !r.Redacted && r.RedactedBy == nil && r.RedactedAt == nil
}

// download copies every object of b into a new directory.
func download(t testing.TB, b Bucket) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	cb := b.(*cloudBucket)
	err := b.List(ctx, "", func(key string, _ int64) error {
		r, err := cb.b.NewReader(ctx, key, nil)
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sameWatermarks reports whether the archiver's watermarks are the store's
// version vector (everything archived).
func sameWatermarks(a *Archiver, st *store.Store) bool {
	wm, vv := a.Watermarks(), st.VersionVector()
	if len(wm) != len(vv) {
		return false
	}
	for d, s := range vv {
		if wm[d] != s {
			return false
		}
	}
	return true
}
