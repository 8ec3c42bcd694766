package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Get returns the event at dot d.
func (s *Store) Get(d crdt.Dot) (*event.Event, error) {
	s.waitIndexed()
	defer s.pr.readers.enter()()
	var r run
	found := false
	err := s.db.View(func(txn *badger.Txn) (err error) {
		r, found, err = findRun(txn, d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: get %s/%d: %w", d.Origin, d.Seq, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: event %s/%d", ErrNotFound, d.Origin, d.Seq)
	}
	return s.readEvent(r.locate(d.Seq))
}

// findRun returns the run holding d, if any.
func findRun(txn *badger.Txn, d crdt.Dot) (run, bool, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: originKey(prefixEvent, d.Origin, 0), Reverse: true})
	defer it.Close()
	it.Seek(eventKey(d))
	if !it.Valid() {
		return run{}, false, nil
	}
	r, err := itemRun(it.Item())
	if err != nil || d.Seq > r.last() {
		return run{}, false, err
	}
	return r, true, nil
}

func itemRun(item *badger.Item) (run, error) {
	d, err := decodeEventKey(item.Key())
	if err != nil {
		return run{}, err
	}
	var r run
	err = item.Value(func(v []byte) (err error) {
		r, err = decodeRun(d.Seq, v)
		return err
	})
	return r, err
}

// GetByID returns the event with the given event id (of several sharing
// it, the one at the smallest dot: see idDot).
func (s *Store) GetByID(id uuid.UUID) (*event.Event, error) {
	s.waitIndexed()
	var d crdt.Dot
	found := false
	err := s.db.View(func(txn *badger.Txn) (err error) {
		d, found, err = s.idDot(txn, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: event %s", ErrNotFound, id)
	}
	return s.Get(d)
}

func (s *Store) readEvent(loc location) (*event.Event, error) {
	b, err := s.segs.readAt(loc.segment, loc.offset, loc.length)
	if err != nil {
		return nil, err
	}
	e := new(event.Event)
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("store: corrupt event at segment %d offset %d: %w", loc.segment, loc.offset, err)
	}
	return s.view(e), nil
}

// Query selects stored events for Scan. Zero values select everything.
type Query struct {
	Device string // only this origin
	After  uint64 // with Device: only seqs above this
	Type   string // only this event type
	Limit  int    // at most this many (0: no limit)
}

// Scan calls fn for each stored event matching q in (device, seq) order
// until fn returns an error, which Scan returns.
func (s *Store) Scan(q Query, fn func(*event.Event) error) error {
	return s.ScanReceived(q, func(e *event.Event, _ int64) error { return fn(e) })
}

// ScanReceived is Scan that also passes each event's received time: when
// it became durable on this node, in epoch milliseconds. The time is
// recorded once per indexed run, so it never changes: the store clock's
// time when the fdatasync of the event's record returned (before the
// write was acknowledged); for events re-applied from the log after a
// crash, the time of that replay; for events indexed before format
// version 2, the time of their run's newest event id (see migrate.go).
func (s *Store) ScanReceived(q Query, fn func(e *event.Event, receivedAt int64) error) error {
	s.waitIndexed()
	defer s.pr.readers.enter()()
	sc := scanner{s: s, q: q, fn: fn}
	return s.scanOrigin(&sc)
}

// scanOrigin runs sc over the runs its query selects.
func (s *Store) scanOrigin(sc *scanner) error {
	q := sc.q
	return s.db.View(func(txn *badger.Txn) error {
		prefix := []byte{prefixEvent}
		seek := prefix
		if q.Device != "" {
			prefix = originKey(prefixEvent, q.Device, 0)
			start := crdt.Dot{Origin: q.Device, Seq: q.After + 1}
			seek = eventKey(start)
			r, found, err := findRun(txn, start)
			if err != nil {
				return err
			}
			if found {
				if err := sc.run(q.Device, r); err != nil || sc.full() {
					return ignoreStop(err)
				}
				seek = eventKey(crdt.Dot{Origin: q.Device, Seq: r.last() + 1})
			}
		}
		// Run values are small and kept in the LSM tree (below the value
		// threshold): prefetching them only costs goroutines and copies.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(seek); it.Valid() && !sc.full(); it.Next() {
			d, err := decodeEventKey(it.Item().Key())
			if err != nil {
				return err
			}
			r, err := itemRun(it.Item())
			if err != nil {
				return err
			}
			if err := sc.run(d.Origin, r); err != nil {
				return ignoreStop(err)
			}
		}
		return nil
	})
}

// scanner walks runs for Scan.
type scanner struct {
	s  *Store
	q  Query
	fn func(*event.Event, int64) error
	// encoded, when set, replaces fn: it gets each event's stored
	// encoding without decoding it (q.Type must be empty).
	encoded func(event.Encoded) error
	// budget, when set, bounds the encoding bytes an encoded scan reads
	// from one run (the callback stops the scan there anyway).
	budget int
	// buf, when set, is where an encoded scan reads runs, one after the
	// other: the encodings it hands out alias it (see ReadRunEncodedInto).
	buf []byte
	n   int
}

// room returns the next n bytes of sc.buf to read a run into, or nil (a
// new buffer) for a scan without one. When sc.buf is full it is replaced
// by a larger one; what was handed out from the old one stays valid.
func (sc *scanner) room(n int) []byte {
	if sc.buf == nil {
		return nil
	}
	if cap(sc.buf)-len(sc.buf) < n {
		sc.buf = make([]byte, 0, max(n, 2*cap(sc.buf)))
	}
	b := sc.buf[len(sc.buf) : len(sc.buf)+n]
	sc.buf = sc.buf[:len(sc.buf)+n]
	return b
}

// part returns the events [lo, hi) of r the scan needs and the log bytes
// [start, end) they occupy: those after q.After for a one-origin scan
// and, for an encoded scan with a byte budget, only as many as fit it (at
// least one), so that a sender reading a run a DELTA at a time reads each
// byte once.
func (sc *scanner) part(r *run) (lo, hi int, start, end int64) {
	hi = len(r.lengths)
	if sc.q.Device != "" && sc.q.After >= r.first {
		lo = int(min(sc.q.After-r.first+1, uint64(hi)))
	}
	if lo == hi {
		return lo, hi, 0, 0
	}
	start = r.offset
	for i := 0; i < lo; i++ {
		start += int64(r.lengths[i]) + int64(uvarintLen(uint64(r.lengths[i+1])))
	}
	end, size := start, 0
	for i := lo; i < hi; i++ {
		l := int(r.lengths[i])
		if i > lo && sc.encoded != nil && sc.budget > 0 && size+l > sc.budget {
			hi = i
			break
		}
		if i > lo {
			end += int64(uvarintLen(uint64(l)))
		}
		end += int64(l)
		size += l
	}
	return lo, hi, start, end
}

var errStop = errors.New("store: scan limit reached")

func ignoreStop(err error) error {
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (sc *scanner) full() bool { return sc.q.Limit > 0 && sc.n >= sc.q.Limit }

// run reads one run with a single read and passes its matching events on.
func (sc *scanner) run(origin string, r run) error {
	lo, hi, start, end := sc.part(&r)
	if lo == hi {
		return nil
	}
	buf, err := sc.s.segs.readInto(sc.room(int(end-start)), r.segment, start, uint32(end-start))
	if err != nil {
		return err
	}
	pos := 0
	for i := lo; i < hi; i++ {
		l := r.lengths[i]
		seq := r.first + uint64(i)
		enc := buf[pos : pos+int(l)]
		if i+1 < hi {
			pos += int(l) + uvarintLen(uint64(r.lengths[i+1]))
		}
		if sc.q.Device != "" && seq <= sc.q.After {
			continue
		}
		if sc.encoded != nil {
			if err := sc.passEncoded(origin, seq, enc); err != nil {
				return err
			}
			continue
		}
		e := new(event.Event)
		if err := e.UnmarshalBinary(enc); err != nil {
			return fmt.Errorf("store: corrupt event %s/%d: %w", origin, seq, err)
		}
		e = sc.s.view(e)
		if sc.q.Type != "" && e.Type != sc.q.Type {
			continue
		}
		if err := sc.fn(e, r.received); err != nil {
			return err
		}
		if sc.n++; sc.full() {
			return errStop
		}
	}
	return nil
}

// Seal returns the newest seal held for origin.
func (s *Store) Seal(origin string) (event.Seal, error) {
	return s.findSeal(origin, ^uint64(0), true)
}

// NextSeal returns the first seal held for origin at or after seq: the one
// that vouches for the event at seq.
func (s *Store) NextSeal(origin string, seq uint64) (event.Seal, error) {
	return s.findSeal(origin, seq, false)
}

func (s *Store) findSeal(origin string, seq uint64, reverse bool) (event.Seal, error) {
	s.waitIndexed()
	var seal event.Seal
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: originKey(prefixSeal, origin, 0), Reverse: reverse})
		defer it.Close()
		it.Seek(sealKey(origin, seq))
		if !it.Valid() {
			return nil
		}
		found = true
		return it.Item().Value(seal.UnmarshalBinary)
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: no seal for %s at or %s seq %d", ErrNotFound, origin, map[bool]string{true: "before", false: "after"}[reverse], seq)
	}
	return seal, err
}

// Hash returns the hash of the held event at d. Dots not in the committed
// context are answered from memory.
func (s *Store) Hash(d crdt.Dot) (event.Hash, bool) {
	if !s.Holds(d) {
		return event.Hash{}, false
	}
	if h, ok := s.floorHash(d); ok { // pruned: its hash is kept
		return h, true
	}
	e, err := s.Get(d)
	if err != nil {
		return event.Hash{}, false
	}
	return e.Hash(), true
}

// Context returns a copy of the committed causal context.
func (s *Store) Context() *crdt.Context {
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx.Clone()
}

// Summary is the store's state at a glance, computed without scanning.
type Summary struct {
	Events        uint64            // events held
	VersionVector map[string]uint64 // contiguous max seq per origin
	Digest        [32]byte          // equal on two stores exactly when they hold the same dots
}

// Summary returns the committed state's summary.
func (s *Store) Summary() Summary {
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Summary{Events: s.ctx.Len(), VersionVector: s.ctx.VersionVector(), Digest: s.ctx.Digest()}
}

// Len returns the number of events held: Summary().Events, without
// building the version vector and digest.
func (s *Store) Len() uint64 {
	s.waitIndexed()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx.Len()
}
