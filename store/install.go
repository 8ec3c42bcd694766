package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
)

// Install completes a join through a snapshot (see snapshot.go): once the
// events the neighbour sent above the floors are applied (Apply), it adopts
// h's context, aggregates and floors. The store must hold nothing outside
// h.Context and have no floors yet (a new or wiped replica); otherwise it
// fails with ErrBadSnapshot and changes nothing. Every dot of h.Context
// above its floor must be held by then (the caller checked the events
// against the context).
//
// The adoption takes several badger transactions; a marker written first
// and removed by the last one makes the next Open discard a half-installed
// store (it held nothing but what the join brought), so the join can
// start over.
func (s *Store) Install(ctx context.Context, h *SnapshotHeader) error {
	if err := h.Validate(); err != nil {
		return err
	}
	s.pr.mu.Lock()
	defer s.pr.mu.Unlock()
	if err := s.checkInstall(s.Context(), h); err != nil {
		return err
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyJoining, nil) }); err != nil {
		return fmt.Errorf("store: mark join: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: mark join: %w", err)
	}
	r := &request{install: h, done: make(chan struct{})}
	if err := s.roundTrip(ctx, r); err != nil {
		if errors.Is(err, ErrBadSnapshot) { // refused before any change
			_ = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(keyJoining) })
		}
		return err
	}
	s.waitIndexed()
	return s.Err()
}

// checkInstall checks that a store holding held can adopt h.
func (s *Store) checkInstall(held *crdt.Context, h *SnapshotHeader) error {
	if extra := held.Missing(h.Context); len(extra) > 0 {
		return fmt.Errorf("%w: this replica holds %s, which the snapshot lacks", ErrBadSnapshot, extra[0])
	}
	if n := len(s.Floors()); n > 0 {
		return fmt.Errorf("%w: this replica has pruned %d origins already", ErrBadSnapshot, n)
	}
	return nil
}

// recoverJoin discards the store when a snapshot install was interrupted.
func (s *Store) recoverJoin() error {
	joining := false
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyJoining)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		joining = err == nil
		return err
	})
	if err != nil || !joining {
		return err
	}
	s.log.Warn("a snapshot join was interrupted; discarding what it had installed to start over")
	if err := s.db.DropAll(); err != nil {
		return fmt.Errorf("store: discard interrupted join: %w", err)
	}
	segs, err := filepath.Glob(filepath.Join(s.cfg.Dir, "log", "*.seg"))
	if err != nil {
		return err
	}
	for _, p := range segs {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("store: discard interrupted join: %w", err)
		}
	}
	return nil
}
