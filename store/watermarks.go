package store

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

func watermarkKey(sink, origin string) []byte {
	k := append([]byte{prefixPrune, pruneMark, byte(len(sink))}, sink...)
	return append(k, origin...)
}

// SaveWatermarks records the archived watermarks sink advertised (origin →
// highest seq it archived, contiguous from 1). Values are kept as given:
// the caller only passes ones that went up. Sink and origins are at most
// 255 bytes.
func (s *Store) SaveWatermarks(sink string, wm map[string]uint64) error {
	if len(sink) == 0 || len(sink) > 255 {
		return fmt.Errorf("store: sink id of %d bytes", len(sink))
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for origin, seq := range wm {
		if len(origin) == 0 || len(origin) > 255 {
			return fmt.Errorf("store: origin id of %d bytes", len(origin))
		}
		if err := wb.Set(watermarkKey(sink, origin), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			return fmt.Errorf("store: save watermark: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: save watermarks: %w", err)
	}
	return nil
}

// Watermarks returns every recorded sink's archived watermarks.
func (s *Store) Watermarks() (map[string]map[string]uint64, error) {
	out := map[string]map[string]uint64{}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte{prefixPrune, pruneMark}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) < 1 || len(k) < 1+int(k[0])+1 {
				return fmt.Errorf("store: corrupt watermark key %x", it.Item().Key())
			}
			sink, origin := string(k[1:1+k[0]]), string(k[1+k[0]:])
			err := it.Item().Value(func(v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("store: corrupt watermark of %s at %s", origin, sink)
				}
				if out[sink] == nil {
					out[sink] = map[string]uint64{}
				}
				out[sink][origin] = binary.BigEndian.Uint64(v)
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
