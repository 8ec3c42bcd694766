package store

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// TestReadsSeeEveryAcknowledgedWrite has writers ingest one event at a
// time and read each back at once, by dot and through the summary: an
// acknowledged event is visible to the next read even while index
// commits of other batches finish around it (badger runs commit
// callbacks on goroutines of their own, in no particular order).
func TestReadsSeeEveryAcknowledgedWrite(t *testing.T) {
	k := newKey(t, 4)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	const writers, per = 16, 40
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range per {
				acks, err := s.Ingest(context.Background(), inputs(1, "t"))
				if err != nil {
					t.Error(err)
					return
				}
				dot := crdt.Dot{Origin: acks[0].DeviceID, Seq: acks[0].Seq}
				if !s.Holds(dot) {
					t.Errorf("acknowledged %v is not held", dot)
				}
				if _, err := s.Get(dot); err != nil {
					t.Errorf("acknowledged %v: %v", dot, err)
				}
				if n := s.Summary().Events; n < acks[0].Seq {
					t.Errorf("summary counts %d events after seq %d was acknowledged", n, acks[0].Seq)
				}
			}
		})
	}
	wg.Wait()
}

// TestCommitsPublishInOrder holds the first batch's badger commit
// callback until the second batch's has started: the second must still
// be published after the first, and a reader after both acks sees both.
func TestCommitsPublishInOrder(t *testing.T) {
	k := newKey(t, 5)
	cfg := testConfig(t.TempDir(), k)
	var mu sync.Mutex
	var order []uint64
	cfg.OnCommit = func(events []*event.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			order = append(order, e.Seq)
		}
	}
	s := openStore(t, cfg)
	defer s.Close()
	second := make(chan struct{})
	calls := 0
	s.c.committed = func([]*group) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			<-second
		case 2:
			close(second)
		}
	}
	ingest(t, s, inputs(1, "t"))
	ingest(t, s, inputs(1, "t"))
	if n := s.Summary().Events; n != 2 {
		t.Fatalf("summary counts %d events after two acknowledged", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []uint64{1, 2}) {
		t.Fatalf("published in the order %v", order)
	}
}
