package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// A snapshot lets a new or wiped replica start from a neighbour's state
// instead of pulling the whole history: the neighbour's causal context,
// its aggregates (over exactly that context), per origin the seal of a
// floor below which the joiner holds no events, and the events above those
// floors. The neighbour picks each floor from the joiner's retention
// window (ExportSnapshot); the joiner applies the events (Apply) and then
// adopts the rest (Install).

// SnapshotHeader is the state a joining replica adopts.
type SnapshotHeader struct {
	// Context is the neighbour's causal context.
	Context *crdt.Context
	// Floors holds at most one seal per origin, sorted by origin: the
	// joiner's floor, within the context's contiguous prefix.
	Floors []event.Seal
	// Aggs are the neighbour's aggregates over Context, sorted by key.
	Aggs []AggRow
}

// ErrBadSnapshot is wrapped by errors about a snapshot that cannot be
// installed.
var ErrBadSnapshot = errors.New("store: bad snapshot")

// Validate checks the header's structure: floors sorted, one per origin,
// each within the context's contiguous prefix; aggregates sorted by key,
// with valid windows. It does not verify seal signatures.
func (h *SnapshotHeader) Validate() error {
	if h.Context == nil {
		return fmt.Errorf("%w: no context", ErrBadSnapshot)
	}
	for i, f := range h.Floors {
		switch {
		case i > 0 && strings.Compare(h.Floors[i-1].Origin, f.Origin) >= 0:
			return fmt.Errorf("%w: floors not sorted by origin at %s", ErrBadSnapshot, f.Origin)
		case f.Seq == 0 || f.Seq > h.Context.Max(f.Origin):
			return fmt.Errorf("%w: floor %s/%d beyond the context's contiguous %d", ErrBadSnapshot, f.Origin, f.Seq, h.Context.Max(f.Origin))
		}
	}
	for i, row := range h.Aggs {
		switch {
		case row.Agg == nil || !row.Key.Window.Valid() || len(row.Key.Type) == 0 || len(row.Key.Type) > event.MaxTypeLen:
			return fmt.Errorf("%w: aggregate %v", ErrBadSnapshot, row.Key)
		case i > 0 && h.Aggs[i-1].Key.Compare(row.Key) >= 0:
			return fmt.Errorf("%w: aggregates not sorted at %v", ErrBadSnapshot, row.Key)
		}
	}
	return nil
}

// ExportSnapshot reads a consistent snapshot for a joiner that keeps the
// events whose time is at or after cutoffMs (0: all this replica holds).
// Each origin's floor is the highest held seal whose events up to it are
// all older than the cutoff (see AgedSeq), or this replica's own floor. It
// calls header once, then run with the held events above those floors in
// (origin, seq) order, in chunks of at most maxBytes of contiguous events
// of one origin (at least one event), with the seal over the last one when
// the chunk ends a sealed run, as a sync sender does. Prunes wait until it
// returns.
func (s *Store) ExportSnapshot(cutoffMs int64, maxBytes int, header func(*SnapshotHeader) error,
	run func(events []*event.Event, seal *event.Seal) error) error {
	s.pr.mu.Lock()
	defer s.pr.mu.Unlock()
	s.waitIndexed()
	h, err := s.snapshotState()
	if err != nil {
		return err
	}
	cuts, err := s.snapshotFloors(h.Context, cutoffMs)
	if err != nil {
		return err
	}
	for _, o := range h.Context.Origins() {
		if c, ok := cuts[o]; ok {
			h.Floors = append(h.Floors, c)
		}
	}
	if err := header(h); err != nil {
		return err
	}
	for _, r := range h.Context.Ranges() {
		from := max(r.From, cuts[r.Origin].Seq+1)
		for from <= r.To {
			events, seal, err := s.ReadRun(r.Origin, from, r.To, maxBytes)
			if err != nil {
				return err
			}
			if len(events) == 0 || events[0].Seq != from {
				return fmt.Errorf("store: snapshot: %s/%d is in the context but not held", r.Origin, from)
			}
			if err := run(events, seal); err != nil {
				return err
			}
			from = events[len(events)-1].Seq + 1
		}
	}
	return nil
}

// snapshotFloors picks the joiner's floor seal of each origin.
func (s *Store) snapshotFloors(ctx *crdt.Context, cutoffMs int64) (map[string]event.Seal, error) {
	cuts := s.floorSeals()
	if cutoffMs == 0 {
		return cuts, nil
	}
	for _, o := range ctx.Origins() {
		lo, hi := cuts[o].Seq, ctx.Max(o)
		if hi <= lo {
			continue
		}
		aged, err := s.AgedSeq(o, cutoffMs, lo, hi)
		if err != nil {
			return nil, err
		}
		if aged <= lo {
			continue
		}
		seal, err := s.findSeal(o, aged, true)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		case seal.Seq > lo:
			cuts[o] = seal
		}
	}
	return cuts, nil
}

// snapshotState reads the committed context and aggregates in one
// transaction, so that they match.
func (s *Store) snapshotState() (*SnapshotHeader, error) {
	h := &SnapshotHeader{Context: crdt.NewContext()}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixContext}, PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			origin := string(it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error { return h.Context.DecodeOrigin(origin, v) })
			if err != nil {
				it.Close()
				return fmt.Errorf("store: context of %s: %w", origin, err)
			}
		}
		it.Close()
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixAgg}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k, err := decodeAggKey(it.Item().Key())
			if err != nil {
				return err
			}
			agg := crdt.NewAgg()
			if err := it.Item().Value(agg.UnmarshalBinary); err != nil {
				return fmt.Errorf("store: decode aggregate: %w", err)
			}
			h.Aggs = append(h.Aggs, AggRow{Key: k, Agg: agg})
		}
		return nil
	})
	slices.SortFunc(h.Aggs, func(a, b AggRow) int { return a.Key.Compare(b.Key) })
	return h, err
}

// floorOf returns h's floor seal of origin.
func floorOf(h *SnapshotHeader, origin string) (event.Seal, bool) {
	i, ok := slices.BinarySearchFunc(h.Floors, origin, func(f event.Seal, o string) int { return strings.Compare(f.Origin, o) })
	if !ok {
		return event.Seal{}, false
	}
	return h.Floors[i], true
}
