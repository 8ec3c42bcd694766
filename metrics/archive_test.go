package metrics_test

import (
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/metrics"
)

func TestArchiveMetrics(t *testing.T) {
	m, err := metrics.New(sources(nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(scrape(t, m), "rumor_archive_") {
		t.Fatal("a node without an archive exports archive metrics")
	}
	a, err := m.Archive()
	if err != nil {
		t.Fatal(err)
	}
	a.FileArchived(100, 4096)
	a.FileArchived(50, 1024)
	a.BlobArchived(7)
	a.UploadFailed()
	a.RedactionsRecorded(3)
	a.FileRewritten(900)
	a.BlobDeleted()
	out := scrape(t, m)
	for _, want := range []string{
		"rumor_archive_events_total 150", "rumor_archive_files_total 2", "rumor_archive_bytes_total 5120",
		"rumor_archive_blobs_total 1", "rumor_archive_blob_bytes_total 7", "rumor_archive_upload_errors_total 1",
		"rumor_archive_redactions_total 3", "rumor_archive_rewritten_files_total 1", "rumor_archive_rewritten_bytes_total 900",
		"rumor_archive_redacted_blobs_deleted_total 1",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if _, err := m.Archive(); err == nil {
		t.Error("registering the archive metrics twice succeeded")
	}
}
