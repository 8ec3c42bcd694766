package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/event"
)

// Format versions and migrations.
//
// The data directory records its format version under keyFormat. Open reads
// it first: a new directory gets formatVersion; an older one is migrated in
// place, one version at a time (v to v+1 by migrations[v]); a newer one is
// refused with ErrNewerFormat, naming both versions.
//
// A migration rewrites every value under one key prefix, in batches. Each
// batch is one badger transaction that also records the last key it
// rewrote under keyMigrate, so a migration interrupted anywhere (kill -9,
// power cut) resumes after the last batch that committed, and a batch lost
// in a power cut takes its progress mark with it (badger's write-ahead log
// replays whole transactions, in order). Once every batch is in, badger is
// synced, and one more transaction sets the new version and drops the mark.
// Migrations read the segment files but never write them.

// keyMigrate holds the progress of a migration: the version it migrates to
// (1 byte), then the last key it rewrote.
var keyMigrate = []byte("mmigrate")

// defaultMigrateBatch is how many keys one migration transaction rewrites.
const defaultMigrateBatch = 1024

// migration upgrades the data directory by one format version: either by
// rewriting the value of every key under prefix (rewrite), or by steps of
// its own (step: it does one batch after the progress mark after, of
// about size keys, in one transaction that records the returned mark, and
// returns how many keys it did, 0 once done).
type migration struct {
	about   string // what changes, for the log
	prefix  byte   // the keys whose values it rewrites
	rewrite func(s *Store, key, old []byte) ([]byte, error)
	step    func(s *Store, to byte, after []byte, size int) ([]byte, int, error)
}

// migrations[v] migrates format v to v+1.
var migrations = map[byte]migration{
	1: {about: "event index runs gain their received time", prefix: prefixEvent, rewrite: runToV2},
	2: {about: "the event_id index keeps buckets of events", step: idIndexToV3},
}

// migrate checks the data directory's format version and migrates it to
// formatVersion.
func (s *Store) migrate() error {
	v, err := s.readFormat()
	if err != nil {
		return err
	}
	if v == 0 { // a new directory
		return s.setFormat(formatVersion)
	}
	if v > formatVersion {
		return fmt.Errorf("%w: the data directory is at format version %d, this build of rumor reads versions up to %d; run a newer rumor", ErrNewerFormat, v, formatVersion)
	}
	batches := 0 // across migrations, for migrateHook
	for ; v < formatVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return fmt.Errorf("store: no migration from format version %d to %d", v, v+1)
		}
		s.log.Info("migrating data directory", "from", v, "to", v+1, "change", m.about)
		if err := s.runMigration(v+1, m, &batches); err != nil {
			return fmt.Errorf("store: migrate format %d to %d: %w", v, v+1, err)
		}
		s.log.Info("migrated data directory", "version", v+1)
	}
	return nil
}

// readFormat returns the recorded format version, 0 if none.
func (s *Store) readFormat() (byte, error) {
	var v byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyFormat)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: read format: %w", err)
		}
		return item.Value(func(b []byte) error {
			if len(b) != 1 || b[0] == 0 {
				return errors.New("store: corrupt format marker")
			}
			v = b[0]
			return nil
		})
	})
	return v, err
}

func (s *Store) setFormat(v byte) error {
	if err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyFormat, []byte{v}); err != nil {
			return err
		}
		return txn.Delete(keyMigrate)
	}); err != nil {
		return fmt.Errorf("store: write format: %w", err)
	}
	return s.db.Sync()
}

// runMigration rewrites every key under m.prefix (or runs m's steps),
// resuming after the last batch an earlier, interrupted run committed,
// then records version to. batches counts the batches done.
func (s *Store) runMigration(to byte, m migration, batches *int) error {
	after, err := s.migrateProgress(to)
	if err != nil {
		return err
	}
	size := s.cfg.migrateBatch
	if size <= 0 {
		size = defaultMigrateBatch
	}
	for {
		var last []byte
		var n int
		var err error
		if m.step != nil {
			last, n, err = m.step(s, to, after, size)
		} else {
			last, n, err = s.migrateBatch(to, m, after, size)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		after = last
		*batches++
		if s.cfg.migrateHook != nil {
			if err := s.cfg.migrateHook(*batches); err != nil {
				return err
			}
		}
	}
	if err := s.db.Sync(); err != nil {
		return err
	}
	return s.setFormat(to)
}

// migrateProgress returns the last key a run of the migration to version
// to rewrote, or nil to start from the beginning.
func (s *Store) migrateProgress(to byte) ([]byte, error) {
	var after []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyMigrate)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		switch {
		case err != nil:
			return err
		case len(v) < 2 || v[0] != to:
			return fmt.Errorf("store: migration progress %x is not for version %d", v, to)
		}
		after = v[1:]
		return nil
	})
	return after, err
}

// migrateBatch rewrites up to size keys under m.prefix after key after
// (all of them from the start when after is nil) in one transaction that
// also records the last one. It returns that key and how many it rewrote.
func (s *Store) migrateBatch(to byte, m migration, after []byte, size int) ([]byte, int, error) {
	var keys, vals [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{m.prefix}, PrefetchValues: true})
		defer it.Close()
		it.Seek([]byte{m.prefix})
		if after != nil {
			it.Seek(after)
		}
		for ; it.Valid() && len(keys) < size; it.Next() {
			k := it.Item().KeyCopy(nil)
			if after != nil && bytes.Equal(k, after) {
				continue
			}
			old, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			v, err := m.rewrite(s, k, old)
			if err != nil {
				return fmt.Errorf("key %x: %w", k, err)
			}
			keys, vals = append(keys, k), append(vals, v)
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return nil, 0, err
	}
	last := keys[len(keys)-1]
	err = s.db.Update(func(txn *badger.Txn) error {
		for i, k := range keys {
			if err := txn.Set(k, vals[i]); err != nil {
				return err
			}
		}
		return txn.Set(keyMigrate, append([]byte{to}, last...))
	})
	if err != nil {
		return nil, 0, fmt.Errorf("commit batch: %w", err)
	}
	return last, len(keys), nil
}

// runToV2 rewrites a format 1 run value (no received time) as format 2.
// The time the run became durable was never recorded; the best available
// is the time of its newest event's id (UUIDv7): no event of the run can
// have arrived before that. The event is read from its segment.
func runToV2(s *Store, key, old []byte) ([]byte, error) {
	d, err := decodeEventKey(key)
	if err != nil {
		return nil, err
	}
	r, err := decodeRunV1(d.Seq, old)
	if err != nil {
		return nil, err
	}
	loc := r.locate(r.last())
	b, err := s.segs.readAt(loc.segment, loc.offset, loc.length)
	if err != nil {
		return nil, err
	}
	e := new(event.Event)
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("store: corrupt event %s/%d: %w", d.Origin, r.last(), err)
	}
	r.received = idTime(e.ID)
	return r.encode(), nil
}

// decodeRunV1 decodes a format 1 run value: segment (4 bytes), offset
// (8), then the event count and lengths as in format 2.
func decodeRunV1(first uint64, b []byte) (run, error) {
	if len(b) < 13 {
		return run{first: first}, fmt.Errorf("store: corrupt version 1 run entry of %d bytes", len(b))
	}
	return decodeRunLengths(first, b[:12], b[12:])
}

// idTime returns the time in a UUIDv7, epoch milliseconds: its first 48
// bits.
func idTime(id uuid.UUID) int64 {
	var b [8]byte
	copy(b[2:], id[:6])
	return int64(binary.BigEndian.Uint64(b[:]))
}
