package store

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// origins numbers the origins the store has seen, so that the per-event
// id index stores a few bytes instead of a 52-character device id. Numbers
// are assigned by the indexer, persisted in the transaction that first
// uses them, and never change.
type origins struct {
	mu     sync.RWMutex
	byName map[string]uint32
	names  []string // names[n] is origin number n
}

func (o *origins) load(db *badger.DB) error {
	o.byName = map[string]uint32{}
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixOrigin}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name := string(it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error {
				if len(v) != 4 {
					return fmt.Errorf("store: corrupt origin number for %s", name)
				}
				n := binary.BigEndian.Uint32(v)
				for uint32(len(o.names)) <= n {
					o.names = append(o.names, "")
				}
				o.names[n], o.byName[name] = name, n
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// number returns origin's number, assigning the next one (and writing it
// into txn) on first sight. Only the indexer calls it.
func (o *origins) number(txn *badger.Txn, origin string) (uint32, error) {
	o.mu.RLock()
	n, ok := o.byName[origin]
	o.mu.RUnlock()
	if ok {
		return n, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n = uint32(len(o.names))
	if err := txn.Set(append([]byte{prefixOrigin}, origin...), binary.BigEndian.AppendUint32(nil, n)); err != nil {
		return 0, fmt.Errorf("store: record origin: %w", err)
	}
	o.names = append(o.names, origin)
	o.byName[origin] = n
	return n, nil
}

// name returns the origin with number n.
func (o *origins) name(n uint32) (string, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if int(n) >= len(o.names) || o.names[n] == "" {
		return "", false
	}
	return o.names[n], true
}
