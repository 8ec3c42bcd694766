package cas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Key tags after the caller's prefix; see the package comment.
const (
	tagBlock = 'b'
	tagRef   = 'r'
	tagSize  = 's'
	tagBytes = 'n'
)

// Store is a content-addressed blob store inside a badger database. It is safe
// for concurrent use. Reads run in parallel; writes of one Store are
// serialized by a mutex (hashing and reading input happen outside it).
type Store struct {
	db     *badger.DB
	prefix []byte

	// split stores blocks as memSegment pieces (in-memory DBs only).
	split bool

	// mu serializes every write transaction of this Store and guards pending.
	mu sync.Mutex
	// pending counts, per raw CID key, the in-flight Puts that wrote or found
	// that chunk and will link it from their root; such chunks are not removed.
	// The Put that takes a count to zero removes the chunk if nothing else
	// uses it (put.finish), as Delete does when a reference goes.
	pending map[string]int

	// sound remembers the raw blocks seen intact, so that Missing hashes
	// each chunk once (see soundSet).
	sound *soundSet

	// afterRoot, if set (by tests), runs in Put between storing the root and
	// letting go of the chunks held in pending, without s.mu held.
	afterRoot func(c cid.Cid)
}

// New returns a Store keeping its keys under prefix in db. The caller owns db
// (opens and closes it). prefix must be non-empty and owned by this Store
// alone: no other key of db may start with it. New neither reads nor writes.
func New(db *badger.DB, prefix []byte) (*Store, error) {
	if db == nil {
		return nil, errors.New("cas: nil badger DB")
	}
	if len(prefix) == 0 {
		return nil, errors.New("cas: empty key prefix (the DB is shared; give the store its own prefix)")
	}
	s := &Store{db: db, prefix: bytes.Clone(prefix), split: db.Opts().InMemory, pending: map[string]int{}, sound: newSoundSet()}
	return s, nil
}

// key returns prefix+tag+binary CID.
func (s *Store) key(tag byte, c cid.Cid) []byte {
	k := make([]byte, 0, len(s.prefix)+1+cidLen)
	k = append(append(k, s.prefix...), tag)
	return append(k, c.KeyString()...)
}

func (s *Store) bytesKey() []byte { return append(bytes.Clone(s.prefix), tagBytes) }

// wtxn is a write transaction of the store; delta accumulates the change of
// the stored byte counter.
type wtxn struct {
	*badger.Txn
	s     *Store
	delta int64
}

// update runs fn in one badger write transaction under s.mu and commits it
// together with the byte counter.
func (s *Store) update(fn func(w *wtxn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateLocked(fn)
}

func (s *Store) updateLocked(fn func(w *wtxn) error) error {
	return s.db.Update(func(txn *badger.Txn) error {
		w := &wtxn{Txn: txn, s: s}
		if err := fn(w); err != nil || w.delta == 0 {
			return err
		}
		n, err := s.readCounter(txn)
		if err != nil {
			return err
		}
		return txn.Set(s.bytesKey(), binary.BigEndian.AppendUint64(nil, uint64(max(n+w.delta, 0))))
	})
}

func (s *Store) readCounter(txn *badger.Txn) (int64, error) {
	item, err := txn.Get(s.bytesKey())
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: byte counter of %d bytes", ErrCorrupt, len(v))
		}
		n = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return n, err
}

// Bytes returns the total size of the blocks stored (raw chunks and root
// blocks, each counted once however many blobs share it), from a counter
// kept with every write.
func (s *Store) Bytes() (int64, error) {
	var n int64
	err := s.db.View(func(txn *badger.Txn) (err error) {
		n, err = s.readCounter(txn)
		return err
	})
	return n, err
}

// readRoot returns the verified, decoded root block c.
func (s *Store) readRoot(txn *badger.Txn, c cid.Cid) (root, error) {
	data, err := s.readBlock(txn, c, nil)
	if err != nil {
		return root{}, err
	}
	return decodeRoot(data)
}
