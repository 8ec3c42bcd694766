package store

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

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
// index, whose buckets are in millisecond order (an id starts with its
// epoch milliseconds): only the events of one millisecond are sorted, by
// position, so no other index is needed. Every held event is listed, also
// two that share an id (a device copied another's id into its own event):
// each is a real event at its own dot, so every replica that holds the
// same events lists the same. Positions are held in memory, about 50
// bytes per event of Limit plus those of one millisecond.
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
// positions of the page. The index's buckets are in millisecond order;
// all entries of one millisecond (across buckets and origins) form a group,
// sorted by position before q's filters apply.
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
	var ents []idEntry
	var err error
	var groupMS idMS
	for it.Seek(idMSPrefix(idMS(hb[:6]))); it.Valid() && len(out) < q.Limit; it.Next() {
		var head idBucketHead
		var origin string
		if head, origin, ents, err = s.bucketItem(it.Item(), ents[:0]); err != nil {
			return nil, err
		}
		if len(group) > 0 && head.ms != groupMS {
			if out, err = s.appendGroup(txn, runs, out, group, q); err != nil {
				return nil, err
			}
			group = group[:0]
			if len(out) >= q.Limit {
				break
			}
		}
		groupMS = head.ms
		if q.Device != "" && origin != q.Device {
			continue
		}
		floor := s.Floor(origin) // pruned: prune.go
		for _, e := range ents {
			p := TimePos{HLC: event.HLCOf(e.id), Device: origin, Seq: e.seq}
			if e.seq > floor && p.HLC.Compare(start) >= 0 {
				group = append(group, p)
			}
		}
	}
	return s.appendGroup(txn, runs, out, group, q)
}

// appendGroup sorts a group of one millisecond by position and appends
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
