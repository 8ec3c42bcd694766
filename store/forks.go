package store

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/event"
)

// prefixFork keys fork evidence: f | len(origin) | origin | seq(8 BE) →
// the held and the received encodings, each behind a uvarint length.
const prefixFork = 'f'

// RecordFork keeps two authentic, different events at one dot as evidence
// that their origin forked its log. The held event stays the one served.
func (s *Store) RecordFork(held, received *event.Event) error {
	k := binary.BigEndian.AppendUint64(originKey(prefixFork, held.Device, 8), held.Seq)
	a, b := held.AppendBinary(nil), received.AppendBinary(nil)
	v := binary.AppendUvarint(nil, uint64(len(a)))
	v = append(v, a...)
	v = binary.AppendUvarint(v, uint64(len(b)))
	v = append(v, b...)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }); err != nil {
		return fmt.Errorf("store: record fork: %w", err)
	}
	return nil
}

// Forks returns every recorded fork as (held, received) pairs.
func (s *Store) Forks() ([][2]*event.Event, error) {
	var out [][2]*event.Event
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixFork}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			err := it.Item().Value(func(v []byte) error {
				var pair [2]*event.Event
				for i := range pair {
					n, k := binary.Uvarint(v)
					if k <= 0 || n > uint64(len(v)-k) {
						return fmt.Errorf("store: corrupt fork evidence")
					}
					e := new(event.Event)
					if err := e.UnmarshalBinary(v[k : k+int(n)]); err != nil {
						return err
					}
					pair[i], v = e, v[k+int(n):]
				}
				out = append(out, pair)
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
