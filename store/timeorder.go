package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// TimePos is an event's position in the time-ordered view of all devices'
// events: ordered by HLC, then device id, then seq. Every field comes from
// the event itself, so every replica that holds the same events orders
// them the same way, whatever order they arrived in.
type TimePos struct {
	HLC    event.HLC
	Device string
	Seq    uint64
}

// PosOf returns e's position in the time-ordered view.
func PosOf(e *event.Event) TimePos {
	return TimePos{HLC: event.HLCOf(e.ID), Device: e.Device, Seq: e.Seq}
}

// Compare returns -1, 0 or +1 as p is before, at or after q.
func (p TimePos) Compare(q TimePos) int {
	if c := p.HLC.Compare(q.HLC); c != 0 {
		return c
	}
	if c := cmp.Compare(p.Device, q.Device); c != 0 {
		return c
	}
	return cmp.Compare(p.Seq, q.Seq)
}

// TimeQuery selects one page of the time-ordered view. Device and Type
// filter the view without an index of their own: the page walks the view
// until it has Limit matching events, reading each event to check Type.
type TimeQuery struct {
	Since  event.HLC // only events whose HLC is at or after Since
	After  *TimePos  // if set, only events after this position (a cursor)
	Device string    // if set, only this origin's events
	Type   string    // if set, only events of this type
	Limit  int       // at most this many events; at least 1
}

// ScanTime reads one page of the time-ordered view: it first calls page
// with the positions of the events q selects, in order, then fn with each
// of those events, until either returns an error, which ScanTime returns.
// Both see one snapshot of the store. The page comes from the event_id
// index, whose keys are already in HLC order (an id starts with its HLC):
// only events with equal HLCs are re-sorted, by (device, seq), so no other
// index is needed. Its positions are held in memory, about 50 bytes per
// event of Limit.
func (s *Store) ScanTime(q TimeQuery, page func([]TimePos) error, fn func(*event.Event) error) error {
	if q.Limit < 1 {
		return fmt.Errorf("store: time query limit %d below 1", q.Limit)
	}
	s.waitIndexed()
	defer s.pr.readers.enter()()
	return s.db.View(func(txn *badger.Txn) error {
		runs := runCache{}
		pos, err := s.timePage(txn, q, runs)
		if err != nil {
			return err
		}
		if err := page(pos); err != nil {
			return err
		}
		for _, p := range pos {
			e, err := runs.read(s, txn, crdt.Dot{Origin: p.Device, Seq: p.Seq})
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// timePage walks the event_id index from q's start and returns the
// positions of the page, each group of equal HLCs sorted by (device, seq).
func (s *Store) timePage(txn *badger.Txn, q TimeQuery, runs runCache) ([]TimePos, error) {
	start := q.Since
	if q.After != nil && q.After.HLC.Compare(start) > 0 {
		start = q.After.HLC
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixID}})
	defer it.Close()
	hb := start.Bytes()
	out := make([]TimePos, 0, min(q.Limit, 4096))
	var group []TimePos
	var err error
	var groupKey [8]byte
	for it.Seek(append([]byte{prefixID}, hb[:]...)); it.Valid() && len(out) < q.Limit; it.Next() {
		k := it.Item().Key()
		if len(k) != 17 {
			return nil, errCorruptIDKey(k)
		}
		if len(group) > 0 && !bytes.Equal(k[1:9], groupKey[:]) {
			if out, err = s.appendGroup(txn, runs, out, group, q); err != nil {
				return nil, err
			}
			group = group[:0]
			if len(out) >= q.Limit {
				break
			}
		}
		p, err := s.indexPos(it.Item())
		if err != nil {
			return nil, err
		}
		if (q.Device != "" && p.Device != q.Device) || p.Seq <= s.Floor(p.Device) { // pruned: prune.go
			continue
		}
		copy(groupKey[:], k[1:9])
		group = append(group, p)
	}
	return s.appendGroup(txn, runs, out, group, q)
}

// indexPos decodes one event_id index entry into a position.
func (s *Store) indexPos(item *badger.Item) (TimePos, error) {
	var id uuid.UUID
	copy(id[:], item.Key()[1:])
	var p TimePos
	err := item.Value(func(v []byte) error {
		num, seq, err := decodeIDValue(v)
		if err != nil {
			return err
		}
		origin, ok := s.origins.name(num)
		if !ok {
			return fmt.Errorf("store: id index names unknown origin number %d", num)
		}
		p = TimePos{HLC: event.HLCOf(id), Device: origin, Seq: seq}
		return nil
	})
	return p, err
}

// appendGroup sorts a group of equal HLCs by (device, seq) and appends
// those after q.After and of q.Type to out, up to q.Limit in all.
func (s *Store) appendGroup(txn *badger.Txn, runs runCache, out, group []TimePos, q TimeQuery) ([]TimePos, error) {
	slices.SortFunc(group, TimePos.Compare)
	for _, p := range group {
		if len(out) >= q.Limit {
			break
		}
		if q.After != nil && p.Compare(*q.After) <= 0 {
			continue
		}
		if q.Type != "" {
			e, err := runs.read(s, txn, crdt.Dot{Origin: p.Device, Seq: p.Seq})
			if err != nil {
				return nil, err
			}
			if e.Type != q.Type {
				continue
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// runCache remembers the last index run read per origin: consecutive
// events of an origin in time order usually share one.
type runCache map[string]run

func (c runCache) read(s *Store, txn *badger.Txn, d crdt.Dot) (*event.Event, error) {
	r, ok := c[d.Origin]
	if !ok || d.Seq < r.first || d.Seq > r.last() {
		var found bool
		var err error
		if r, found, err = findRun(txn, d); err != nil {
			return nil, err
		} else if !found {
			return nil, fmt.Errorf("store: id index names %s/%d, which is not stored", d.Origin, d.Seq)
		}
		c[d.Origin] = r
	}
	e, err := s.readEvent(r.locate(d.Seq))
	if err != nil {
		return nil, err
	}
	if e.Device != d.Origin || e.Seq != d.Seq {
		return nil, fmt.Errorf("store: index entry %s/%d holds event %s/%d", d.Origin, d.Seq, e.Device, e.Seq)
	}
	return e, nil
}

func errCorruptIDKey(k []byte) error { return fmt.Errorf("store: corrupt id index key %x", k) }
