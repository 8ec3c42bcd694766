package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// Events is what the Archiver reads of the node's event store.
// *store.Store implements it.
type Events interface {
	// VersionVector returns, per origin, the highest seq held with every
	// seq before it.
	VersionVector() map[string]uint64
	// ScanReceived calls fn for each event matching q in (device, seq)
	// order with the time it became durable here (epoch ms).
	ScanReceived(q store.Query, fn func(e *event.Event, receivedAt int64) error) error
}

// Redactions is what the Archiver reads of the redactions that took
// effect in the node's store. *store.Store implements it.
type Redactions interface {
	// Redactions calls fn with every redaction after the n-th, in the
	// order they took effect, with its number.
	Redactions(after uint64, fn func(n uint64, r *event.Redaction) error) error
	// Redaction returns the redaction in effect for the event at d.
	Redaction(d crdt.Dot) (*event.Redaction, bool)
}

// Blobs is what the Archiver reads of the node's blob store. *cas.Store
// implements it.
type Blobs interface {
	// Has reports whether the whole blob is stored here.
	Has(c cid.Cid) (bool, error)
	// Open streams a stored blob, verifying it as it is read.
	Open(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error)
}

// Cache persists the archived watermarks between runs, so that they are
// known (and can be gossiped) before the bucket has been listed. It is
// only a cache: the bucket's files are the truth, and listing them
// replaces whatever it held.
type Cache interface {
	// Load returns the saved watermarks.
	Load() (map[string]uint64, error)
	// Save records device's watermark.
	Save(device string, watermark uint64) error
}

// Observer is told what the Archiver does (metrics.Archive implements it).
// Its methods must not block.
type Observer interface {
	// FileArchived: a Parquet file of events rows and bytes bytes is durable.
	FileArchived(events int, bytes int64)
	// BlobArchived: a blob of bytes bytes is durable in the bucket.
	BlobArchived(bytes int64)
	// UploadFailed: writing a file or blob to the bucket failed (it is
	// retried).
	UploadFailed()
}

// Config configures an Archiver. Start from DefaultConfig.
type Config struct {
	// Bucket receives the archive (see OpenBucket). Required; the Archiver
	// closes it.
	Bucket Bucket
	// Events is the node's event store. Required.
	Events Events
	// Blobs is the node's blob store. Required.
	Blobs Blobs
	// Fetch, if set, makes a blob that is not held here whole by fetching
	// it from peers, within ctx. Without it a missing blob waits until
	// replication brings it.
	Fetch func(ctx context.Context, c cid.Cid) error
	// Cache persists the watermarks between runs. Optional.
	Cache Cache
	// Redactions, if set, are applied to the archive and recorded in its
	// redaction manifest (see the package documentation); Ledger is then
	// required. A node sets both.
	Redactions Redactions
	// Ledger keeps the manifest's and the archived blob references' state
	// (NewLedger, in the node's database).
	Ledger *Ledger
	// Observer is told about files, blobs and failures. Optional.
	Observer Observer
	// Rows is the most events one file holds; a file is closed when it
	// reaches it. Default 100,000; at most MaxRows.
	Rows int
	// Age closes a file once its oldest event arrived this long ago.
	// Default 30 s.
	Age time.Duration
	// Workers is how many files (of different origins) are written at
	// once. Each holds up to Rows events in memory. Default 4.
	Workers int
	// BlobWait bounds one attempt to fetch a missing blob. Default 30 s.
	BlobWait time.Duration
	// RetryMin and RetryMax bound the backoff after a failed file or
	// listing: it doubles from RetryMin up to RetryMax. Defaults 1 s, 1 min.
	RetryMin, RetryMax time.Duration
	// TempDir holds blobs on their way to the bucket. Default "": the
	// system's temporary directory.
	TempDir string
	// Clock gives the time. Default the wall clock.
	Clock clock.Clock
	// Logger receives the Archiver's logs. Default slog.Default().
	Logger *slog.Logger
}

// Defaults and bounds of Config.
const (
	DefaultRows = 100_000
	DefaultAge  = 30 * time.Second
	MaxRows     = 10_000_000
)

// DefaultConfig returns the defaults documented on each Config field.
func DefaultConfig() Config {
	return Config{
		Rows: DefaultRows, Age: DefaultAge, Workers: 4, BlobWait: 30 * time.Second,
		RetryMin: time.Second, RetryMax: time.Minute, Clock: clock.Real{},
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Bucket == nil || c.Events == nil || c.Blobs == nil:
		return errors.New("sink: config: Bucket, Events and Blobs are required")
	case c.Rows < 1 || c.Rows > MaxRows:
		return fmt.Errorf("sink: config: rows per file %d is not between 1 and %d", c.Rows, MaxRows)
	case c.Workers < 1:
		return fmt.Errorf("sink: config: workers %d below 1", c.Workers)
	case c.Age <= 0:
		return fmt.Errorf("sink: config: file age %v must be positive", c.Age)
	case c.BlobWait <= 0:
		return fmt.Errorf("sink: config: blob wait %v must be positive", c.BlobWait)
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return fmt.Errorf("sink: config: retry backoff %v to %v is not increasing from above 0", c.RetryMin, c.RetryMax)
	case c.Redactions != nil && c.Ledger == nil:
		return errors.New("sink: config: Redactions needs a Ledger")
	case c.Clock == nil:
		return errors.New("sink: config: Clock is required")
	}
	return nil
}
