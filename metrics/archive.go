package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Archive holds a sink's archive metrics (see package sink); its methods
// implement sink.Observer. Get it from Metrics.Archive: a device has none.
type Archive struct {
	events, files, bytes, blobs, blobBytes, uploadErrors prometheus.Counter
	red                                                  archiveRedactions
}

// Archive registers the archive metrics on m's registry and returns them.
// Call it once, on a sink.
func (m *Metrics) Archive() (*Archive, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	a := &Archive{
		events:       c("rumor_archive_events_total", "Events written to the archive (rows of durable Parquet files)."),
		files:        c("rumor_archive_files_total", "Parquet files written durably to the archive."),
		bytes:        c("rumor_archive_bytes_total", "Bytes of the Parquet files written to the archive."),
		blobs:        c("rumor_archive_blobs_total", "Blobs copied to the archive."),
		blobBytes:    c("rumor_archive_blob_bytes_total", "Bytes of the blobs copied to the archive."),
		uploadErrors: c("rumor_archive_upload_errors_total", "Failed uploads of files or blobs to the archive (each is retried)."),
	}
	err := errors.Join(m.reg.Register(a.events), m.reg.Register(a.files), m.reg.Register(a.bytes),
		m.reg.Register(a.blobs), m.reg.Register(a.blobBytes), m.reg.Register(a.uploadErrors))
	if err != nil {
		return nil, err
	}
	if a.red, err = m.archiveRedactions(); err != nil {
		return nil, err
	}
	return a, nil
}

// FileArchived counts a durable Parquet file of events rows and bytes bytes.
func (a *Archive) FileArchived(events int, bytes int64) {
	a.events.Add(float64(events))
	a.files.Inc()
	a.bytes.Add(float64(bytes))
}

// BlobArchived counts a blob of bytes bytes copied to the archive.
func (a *Archive) BlobArchived(bytes int64) {
	a.blobs.Inc()
	a.blobBytes.Add(float64(bytes))
}

// UploadFailed counts a failed upload.
func (a *Archive) UploadFailed() { a.uploadErrors.Inc() }
