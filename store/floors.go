package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Keys under prefixPrune, the retention state (see prune.go):
//
//	p f <origin>                        → event.Seal: the origin's floor
//	p w <len(sink)> <sink> <origin>     → 8-byte BE archived watermark
//	p j                                 → a snapshot join is being installed
//	p c                                 → 8-byte BE packed HLC: the clock when floors last rose
const (
	prefixPrune  = 'p'
	pruneFloor   = 'f'
	pruneMark    = 'w'
	pruneJoining = 'j'
	pruneClock   = 'c'
)

var (
	keyJoining = []byte{prefixPrune, pruneJoining}
	// keyPruneClock keeps the hybrid logical clock past the stamps of the
	// events a prune removes: restoreHLC reads the local head's stamp and
	// the held events', and once those are pruned only this is left.
	keyPruneClock = []byte{prefixPrune, pruneClock}
)

func floorKey(origin string) []byte {
	return append([]byte{prefixPrune, pruneFloor}, origin...)
}

// pruneState is the store's retention state: the floor of each origin and
// the readers that may still use a segment file about to be deleted.
//
// An origin's floor is the seal of the highest seq at or below which this
// replica holds no events of it any more (pruned, or skipped by a snapshot
// join). Those dots stay in the causal context, so they are never pulled
// back; the seal keeps the hash of the event at the floor, so that the run
// after it can still be checked against its predecessor, and a floor is
// always at a sealed seq, so that a neighbour can verify it. Invariant:
// every dot of the context above the floor is held.
type pruneState struct {
	mu      sync.Mutex // serialises Prune, ExportSnapshot and Install
	fmu     sync.RWMutex
	floors  map[string]event.Seal // guarded by fmu
	readers readerEpochs
}

// loadFloors reads the persisted floors.
func (s *Store) loadFloors() error {
	floors := map[string]event.Seal{}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte{prefixPrune, pruneFloor}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			origin := string(it.Item().Key()[len(prefix):])
			var seal event.Seal
			if err := it.Item().Value(seal.UnmarshalBinary); err != nil {
				return fmt.Errorf("store: floor of %s: %w", origin, err)
			}
			if seal.Origin != origin {
				return fmt.Errorf("store: floor of %s is a seal of %s", origin, seal.Origin)
			}
			floors[origin] = seal
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.pr.floors = floors
	return nil
}

// Floor returns the seq at or below which this replica holds no events of
// origin (0 when it holds them all). Those dots are in its context: they
// were pruned, or skipped by a snapshot join.
func (s *Store) Floor(origin string) uint64 {
	s.pr.fmu.RLock()
	defer s.pr.fmu.RUnlock()
	return s.pr.floors[origin].Seq
}

// Floors returns every origin's floor above 0 (see Floor).
func (s *Store) Floors() map[string]uint64 {
	s.pr.fmu.RLock()
	defer s.pr.fmu.RUnlock()
	out := make(map[string]uint64, len(s.pr.floors))
	for o, seal := range s.pr.floors {
		out[o] = seal.Seq
	}
	return out
}

// floorSeals returns a copy of the floors.
func (s *Store) floorSeals() map[string]event.Seal {
	s.pr.fmu.RLock()
	defer s.pr.fmu.RUnlock()
	return maps.Clone(s.pr.floors)
}

func (s *Store) setFloors(seals []event.Seal) {
	s.pr.fmu.Lock()
	defer s.pr.fmu.Unlock()
	if s.pr.floors == nil {
		s.pr.floors = map[string]event.Seal{}
	}
	for _, seal := range seals {
		s.pr.floors[seal.Origin] = seal
	}
}

// floorHash returns the hash of the event at d when d is an origin's floor:
// the event is gone, its hash is kept.
func (s *Store) floorHash(d crdt.Dot) (event.Hash, bool) {
	s.pr.fmu.RLock()
	defer s.pr.fmu.RUnlock()
	f, ok := s.pr.floors[d.Origin]
	if !ok || f.Seq != d.Seq {
		return event.Hash{}, false
	}
	return f.Head, true
}

// writeFloors persists floors, with the clock (keyPruneClock), and makes
// them durable.
func (s *Store) writeFloors(seals []event.Seal) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	if err := wb.Set(keyPruneClock, binary.BigEndian.AppendUint64(nil, s.clock.last.Load())); err != nil {
		return fmt.Errorf("store: write floor: %w", err)
	}
	for i := range seals {
		if err := wb.Set(floorKey(seals[i].Origin), seals[i].AppendBinary(nil)); err != nil {
			return fmt.Errorf("store: write floor: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: write floors: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync floors: %w", err)
	}
	return nil
}

// readerEpochs lets Prune wait until no reader can still use a segment file
// before deleting it, without ever blocking readers (a read-copy-update
// grace period): readers register in the current epoch; synchronize
// starts a new epoch and waits for the readers of the previous one.
type readerEpochs struct {
	mu     sync.Mutex
	cond   *sync.Cond
	epoch  uint64
	active [2]int // readers by epoch parity
}

// enter registers a reader; call the returned func when it is done.
func (r *readerEpochs) enter() func() {
	r.mu.Lock()
	e := r.epoch & 1
	r.active[e]++
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.active[e]--
		if r.active[e] == 0 && r.cond != nil {
			r.cond.Broadcast()
		}
		r.mu.Unlock()
	}
}

// synchronize returns once every reader that entered before the call has
// left. Calls must not overlap (Prune holds pruneState.mu).
func (r *readerEpochs) synchronize() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cond == nil {
		r.cond = sync.NewCond(&r.mu)
	}
	old := r.epoch & 1
	r.epoch++
	for r.active[old] > 0 {
		r.cond.Wait()
	}
}

// prunedClock returns the clock recorded when floors last rose, if any.
func (s *Store) prunedClock() (event.HLC, bool, error) {
	var h event.HLC
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyPruneClock)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("store: pruned clock of %d bytes", len(v))
			}
			h, found = unpackHLC(binary.BigEndian.Uint64(v)), true
			return nil
		})
	})
	return h, found, err
}
