package sink

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// BadgerCache is a Cache in a badger database, under a key prefix of its
// own: prefix | device → watermark (8 bytes, big endian).
type BadgerCache struct {
	db     *badger.DB
	prefix []byte
}

var _ Cache = (*BadgerCache)(nil)

// NewBadgerCache returns a cache in db under prefix.
func NewBadgerCache(db *badger.DB, prefix []byte) *BadgerCache {
	return &BadgerCache{db: db, prefix: prefix}
}

// Load implements Cache.
func (c *BadgerCache) Load() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: c.prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			device := string(it.Item().Key()[len(c.prefix):])
			err := it.Item().Value(func(v []byte) error {
				if len(v) != 8 || !ValidDevice(device) {
					return fmt.Errorf("sink: corrupt cached watermark for %q", device)
				}
				out[device] = binary.BigEndian.Uint64(v)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Save implements Cache.
func (c *BadgerCache) Save(device string, watermark uint64) error {
	k := append(append([]byte{}, c.prefix...), device...)
	return c.db.Update(func(txn *badger.Txn) error {
		return txn.Set(k, binary.BigEndian.AppendUint64(nil, watermark))
	})
}
