package node

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/sink"
)

// archivedRows decodes the archive file name of the archive in dir.
func archivedRows(t *testing.T, dir, name string) []sink.Row {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sink.DecodeParquet[sink.Row](data)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSinkArchivesRedactions runs a device and a sink on loopback. The
// device redacts an event the sink already archived: the sink rewrites
// its file redacted, deletes its blob from the archive and records the
// redaction in the manifest with that file. The device then redacts an
// event the sink holds but has not archived yet: it is recorded without a
// file and archived redacted. The sink's API shows both redacted.
func TestSinkArchivesRedactions(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "archive")
	dev := startTestNode(t, "", nil)
	defer dev.stop()
	s := startTestNode(t, "", func(c *Config) {
		// Files close only when full: what is archived when is up to the test.
		c.Role, c.Archive, c.ArchiveRows, c.ArchiveAge = RoleSink, archive, 20, time.Hour
	}, dev.addr(t))
	defer s.stop()

	blob := postBlob(t, dev.url, []byte("the secret attachment"))
	var secret string
	for i := 1; i <= 20; i++ {
		if i == 5 {
			secret = postJSON(t, dev.url, `{"type":"visit","payload":{"who":"s3cr3t-alice","value":5},"blobs":["`+blob+`"]}`)
			continue
		}
		postJSON(t, dev.url, fmt.Sprintf(`{"type":"visit","payload":{"who":"public-%d","value":%d}}`, i, i))
	}
	waitFor(t, 20*time.Second, "the sink to archive the device's 20 events", func() bool {
		return s.Archiver().Watermarks()[dev.ID()] == 20
	})
	files, _ := s.Archiver().Files(sink.FileQuery{Device: dev.ID()})
	if len(files) != 1 {
		t.Fatalf("files %+v", files)
	}
	first := files[0].Name
	if rows := archivedRows(t, archive, first); !strings.Contains(rows[4].Payload, "s3cr3t-alice") || len(rows[4].Blobs) != 1 {
		t.Fatalf("archived before the redaction: %+v", rows[4])
	}
	blobPath := filepath.Join(archive, "blobs", blob)
	if _, err := os.Stat(blobPath); err != nil {
		t.Fatalf("the blob was not archived: %v", err)
	}

	if code, _, body := redactVia(t, dev.url, secret); code != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	waitFor(t, 20*time.Second, "the sink to record the redaction", func() bool {
		_, n := s.Archiver().Manifests()
		return n == 1
	})
	rows := archivedRows(t, archive, first)
	if r := rows[4]; !r.Redacted || r.RedactedBy != dev.ID() || r.Payload != "{}" || len(r.Blobs) != 0 || r.Seq != 5 {
		t.Fatalf("archived after the redaction: %+v", r)
	}
	for _, r := range rows {
		if strings.Contains(r.Payload, "s3cr3t") {
			t.Fatalf("the archive still holds the payload: %+v", r)
		}
	}
	if _, err := os.Stat(blobPath); !os.IsNotExist(err) {
		t.Fatalf("the redacted event's blob is still archived: %v", err)
	}

	// Redacted before the sink archives it (21 is the first redaction).
	later := postJSON(t, dev.url, `{"type":"visit","payload":{"who":"s3cr3t-bob","value":1}}`) // 22
	if code, _, body := redactVia(t, dev.url, later); code != http.StatusAccepted {            // 23
		t.Fatalf("DELETE: %d %s", code, body)
	}
	waitFor(t, 20*time.Second, "the sink to record the second redaction", func() bool {
		_, n := s.Archiver().Manifests()
		return n == 2
	})
	if s.Archiver().Watermarks()[dev.ID()] != 20 {
		t.Fatal("the sink archived the second redaction's target early (the test proves less)")
	}
	for i := 24; i <= 40; i++ {
		postJSON(t, dev.url, fmt.Sprintf(`{"type":"visit","payload":{"who":"public-%d","value":%d}}`, i, i))
	}
	waitFor(t, 20*time.Second, "the sink to archive 21-40", func() bool {
		return s.Archiver().Watermarks()[dev.ID()] == 40
	})
	files, _ = s.Archiver().Files(sink.FileQuery{Device: dev.ID(), After: 20})
	if len(files) != 1 || files[0].First != 21 {
		t.Fatalf("files after 20: %+v", files)
	}
	if r := archivedRows(t, archive, files[0].Name)[1]; r.Seq != 22 || !r.Redacted || r.Payload != "{}" {
		t.Fatalf("archived redacted: %+v", r)
	}

	// The manifest, as a reader of the bucket sees it.
	ms, _ := s.Archiver().Manifests()
	var recorded []sink.RedactionRow
	for _, m := range ms {
		data, err := os.ReadFile(filepath.Join(archive, filepath.FromSlash(m.Name)))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := sink.DecodeParquet[sink.RedactionRow](data)
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, rs...)
	}
	if len(recorded) != 2 || recorded[0].Seq != 5 || recorded[0].EventID != secret || recorded[0].File != first ||
		recorded[0].RedactedBy != dev.ID() || recorded[1].Seq != 22 || recorded[1].EventID != later || recorded[1].File != "" {
		t.Fatalf("manifest %+v", recorded)
	}
	for _, id := range []string{secret, later} {
		if !redactedOn(t, s, id) {
			t.Fatalf("the sink's API does not show %s redacted", id)
		}
	}
}
