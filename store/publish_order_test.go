package store

import (
	"slices"
	"sync"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

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
