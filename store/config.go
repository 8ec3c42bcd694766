package store

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

// MaxClockSkewLimit is the largest Config.MaxClockSkew.
const MaxClockSkewLimit = 24 * time.Hour

// Config configures a Store. Build it from DefaultConfig and set Dir,
// Origin and Signer.
type Config struct {
	// Dir is the data directory; the store uses Dir/db and Dir/log. Required.
	Dir string
	// Origin is this node's device id (textual peer ID). Required.
	Origin string
	// Signer seals the local log; it must hold Origin's private key. Required.
	Signer event.Signer
	// Clock gives ingest its default event time. Default: the wall clock.
	Clock clock.Clock
	// Logger receives store logs. Default: slog.Default().
	Logger *slog.Logger
	// SegmentBytes is the size after which a new segment file is started.
	// Default 64 MiB.
	SegmentBytes int64
	// MaxGroupEvents caps the events the writer puts in one record.
	// Default 8192.
	MaxGroupEvents int
	// CacheBytes bounds badger's block and index caches together. Default 32 MiB.
	CacheBytes int64
	// MemTableBytes is badger's memtable size. Default 16 MiB.
	MemTableBytes int64
	// MaxClockSkew bounds how far ahead of Clock a received event's HLC
	// (its id's timestamp) may be for the node's clock to follow it; an
	// event further ahead is still stored, but counted (ClockSkewed) and
	// not followed. 0 to 24 h. Default 1 min.
	MaxClockSkew time.Duration
	// Operators are the device ids allowed to redact any event here; a
	// device may always redact its own. Every redaction, made here or
	// received, takes effect only if its redactor has that right.
	Operators []string
	// OnCommit, if set, is called by the commit goroutine with every
	// durable commit, in commit order. It must not block or retain the
	// slice of events beyond the call.
	OnCommit func(c Commit)

	// migrateBatch and migrateHook let tests interrupt a format migration:
	// keys rewritten per transaction (default defaultMigrateBatch), and a
	// function called after each committed batch whose error stops it.
	migrateBatch int
	migrateHook  func(batch int) error
}

// DefaultConfig returns the defaults documented on each Config field.
func DefaultConfig() Config {
	return Config{
		Clock:          clock.Real{},
		SegmentBytes:   64 << 20,
		MaxGroupEvents: 8192,
		CacheBytes:     32 << 20,
		MemTableBytes:  16 << 20,
		MaxClockSkew:   time.Minute,
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("store: config: Dir is required")
	case c.Origin == "":
		return errors.New("store: config: Origin is required")
	case c.Signer == nil:
		return errors.New("store: config: Signer is required")
	case c.Clock == nil:
		return errors.New("store: config: Clock is required")
	case c.SegmentBytes < 1<<20:
		return fmt.Errorf("store: config: SegmentBytes %d below 1 MiB", c.SegmentBytes)
	case c.MaxGroupEvents < 1:
		return fmt.Errorf("store: config: MaxGroupEvents %d below 1", c.MaxGroupEvents)
	case c.CacheBytes < 1<<20:
		return fmt.Errorf("store: config: CacheBytes %d below 1 MiB", c.CacheBytes)
	case c.MaxClockSkew < 0 || c.MaxClockSkew > MaxClockSkewLimit:
		return fmt.Errorf("store: config: MaxClockSkew %v outside [0, %v]", c.MaxClockSkew, MaxClockSkewLimit)
	case c.MemTableBytes < 1<<20:
		return fmt.Errorf("store: config: MemTableBytes %d below 1 MiB", c.MemTableBytes)
	}
	return nil
}
