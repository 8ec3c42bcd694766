package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// archiveRedactions are the archive's redaction metrics; Archive's
// methods below implement sink.RedactionObserver.
type archiveRedactions struct {
	recorded, rewritten, rewrittenBytes, blobsDeleted prometheus.Counter
}

func (m *Metrics) archiveRedactions() (archiveRedactions, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	r := archiveRedactions{
		recorded:       c("rumor_archive_redactions_total", "Redactions recorded in the archive's redaction manifest."),
		rewritten:      c("rumor_archive_rewritten_files_total", "Archive files rewritten because events in them were redacted."),
		rewrittenBytes: c("rumor_archive_rewritten_bytes_total", "Bytes of the archive files rewritten with redacted events."),
		blobsDeleted:   c("rumor_archive_redacted_blobs_deleted_total", "Blobs of redacted events deleted from the archive (no archived event referenced them any more)."),
	}
	err := errors.Join(m.reg.Register(r.recorded), m.reg.Register(r.rewritten), m.reg.Register(r.rewrittenBytes),
		m.reg.Register(r.blobsDeleted))
	return r, err
}

// RedactionsRecorded counts a manifest file of n redactions.
func (a *Archive) RedactionsRecorded(n int) { a.red.recorded.Add(float64(n)) }

// FileRewritten counts an archive file rewritten with redacted rows.
func (a *Archive) FileRewritten(bytes int64) {
	a.red.rewritten.Inc()
	a.red.rewrittenBytes.Add(float64(bytes))
}

// BlobDeleted counts a redacted event's blob deleted from the archive.
func (a *Archive) BlobDeleted() { a.red.blobsDeleted.Inc() }
