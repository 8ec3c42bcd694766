package sink

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
)

// Ledger is the Archiver's state about redactions, in the node's badger
// database under a key prefix of its own (in the same database as the
// store, so that it lives and dies with the store's redaction numbering):
//
//	prefix l                          → the manifest log id (8 random bytes)
//	prefix n                          → the last redaction number recorded (8 BE), a cache of the bucket's
//	prefix b | len(cid) | cid | len(device) | device | seq(8 BE) → empty: an archived row references the blob
//	prefix i                          → empty: the b entries cover every file of the bucket
//	prefix g | cid                    → empty: a blob a redaction may have left unreferenced, to delete from the bucket
//
// The b entries of a file are written before the file is uploaded, so an
// archived row's reference is never missing (a crash may leave entries of
// rows that were not archived: they only keep a blob longer).
type Ledger struct {
	db     *badger.DB
	prefix []byte
}

const (
	ledgerLog      = 'l'
	ledgerCursor   = 'n'
	ledgerRef      = 'b'
	ledgerComplete = 'i'
	ledgerPending  = 'g'
)

// NewLedger returns the ledger kept in db under prefix.
func NewLedger(db *badger.DB, prefix []byte) *Ledger {
	return &Ledger{db: db, prefix: append([]byte{}, prefix...)}
}

func (l *Ledger) key(kind byte, rest ...[]byte) []byte {
	k := append(append([]byte{}, l.prefix...), kind)
	for _, r := range rest {
		k = append(k, r...)
	}
	return k
}

// logID returns the manifest log id, created on first use.
func (l *Ledger) logID() (string, error) {
	var id []byte
	err := l.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(l.key(ledgerLog))
		if err == nil {
			id, err = item.ValueCopy(nil)
			if err == nil && len(id) != 8 {
				err = fmt.Errorf("sink: corrupt manifest log id %x", id)
			}
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		id = make([]byte, 8)
		if _, err := rand.Read(id); err != nil {
			return err
		}
		return txn.Set(l.key(ledgerLog), id)
	})
	if err != nil {
		return "", fmt.Errorf("sink: manifest log id: %w", err)
	}
	return hex.EncodeToString(id), nil
}

// cursor returns the last redaction number saved by saveCursor.
func (l *Ledger) cursor() (uint64, error) {
	var n uint64
	err := l.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(l.key(ledgerCursor))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("sink: corrupt manifest cursor %x", v)
			}
			n = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return n, err
}

func (l *Ledger) saveCursor(n uint64) error {
	return l.db.Update(func(txn *badger.Txn) error {
		return txn.Set(l.key(ledgerCursor), binary.BigEndian.AppendUint64(nil, n))
	})
}

// blobRef is an archived row's reference to a blob.
type blobRef struct {
	c cid.Cid
	d crdt.Dot
}

func (l *Ledger) refPrefix(c cid.Cid) []byte {
	raw := c.KeyString()
	return l.key(ledgerRef, []byte{byte(len(raw))}, []byte(raw))
}

func (l *Ledger) refKey(r blobRef) []byte {
	k := append(l.refPrefix(r.c), byte(len(r.d.Origin)))
	k = append(k, r.d.Origin...)
	return binary.BigEndian.AppendUint64(k, r.d.Seq)
}

// addRefs records archived rows' blob references.
func (l *Ledger) addRefs(refs []blobRef) error {
	if len(refs) == 0 {
		return nil
	}
	wb := l.db.NewWriteBatch()
	defer wb.Cancel()
	for _, r := range refs {
		if err := wb.Set(l.refKey(r), nil); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("sink: record blob references: %w", err)
	}
	return nil
}

// redactRefs drops the references of rows about to be rewritten redacted
// and queues their blobs for deletion from the bucket, in one transaction
// (before the rewrite: afterwards the file no longer says which blobs the
// rows referenced).
func (l *Ledger) redactRefs(refs []blobRef) error {
	if len(refs) == 0 {
		return nil
	}
	return l.db.Update(func(txn *badger.Txn) error {
		for _, r := range refs {
			if err := txn.Delete(l.refKey(r)); err != nil {
				return err
			}
			if err := txn.Set(l.key(ledgerPending, []byte(r.c.KeyString())), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// pending returns the blobs queued for deletion.
func (l *Ledger) pending() ([]cid.Cid, error) {
	var out []cid.Cid
	p := l.key(ledgerPending)
	err := l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			c, err := cid.Cast(it.Item().KeyCopy(nil)[len(p):])
			if err != nil {
				return fmt.Errorf("sink: corrupt pending blob key: %w", err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func (l *Ledger) donePending(c cid.Cid) error {
	return l.db.Update(func(txn *badger.Txn) error {
		return txn.Delete(l.key(ledgerPending, []byte(c.KeyString())))
	})
}

// referenced reports whether an archived row references c.
func (l *Ledger) referenced(c cid.Cid) (bool, error) {
	found := false
	p := l.refPrefix(c)
	err := l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		it.Rewind()
		found = it.Valid()
		return nil
	})
	return found, err
}

// refsComplete reports whether the references cover every archived file.
func (l *Ledger) refsComplete() (bool, error) {
	ok := false
	err := l.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(l.key(ledgerComplete))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}

func (l *Ledger) markRefsComplete() error {
	return l.db.Update(func(txn *badger.Txn) error { return txn.Set(l.key(ledgerComplete), nil) })
}
