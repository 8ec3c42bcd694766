package store

import (
	"slices"
	"sync"
	"testing"
)

// TestCommitsPublishInOrder holds the first batch's badger commit
// callback until the second batch's has started: the second must still
// be published after the first, and a reader after both acks sees both.
func TestCommitsPublishInOrder(t *testing.T) {
	k := newKey(t, 5)
	cfg := testConfig(t.TempDir(), k)
	var mu sync.Mutex
	var order []uint64
	cfg.OnCommit = func(c Commit) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range c.Events {
			order = append(order, e.Seq)
		}
	}
	s := openStore(t, cfg)
	defer s.Close()
	first, second := make(chan struct{}), make(chan struct{})
	calls := 0
	s.c.committed = func([]*group) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			close(first)
			<-second
		case 2:
			close(second)
		}
	}
	ingest(t, s, inputs(1, "t"))
	// The first batch is with badger before the second is ingested: an ack
	// comes before indexing, so otherwise the indexer could take both
	// groups as one batch, one commit.
	<-first
	ingest(t, s, inputs(1, "t"))
	if n := s.Summary().Events; n != 2 {
		t.Fatalf("summary counts %d events after two acknowledged", n)
	}
	if err := s.Close(); err != nil { // OnCommit follows publishing: wait for it
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []uint64{1, 2}) {
		t.Fatalf("published in the order %v", order)
	}
}
