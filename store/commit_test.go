package store

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// commitLog keeps what OnCommit was given.
type commitLog struct {
	mu      sync.Mutex
	commits []Commit
}

func (l *commitLog) hook(c Commit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.Events = slices.Clone(c.Events) // OnCommit may not keep the slice
	l.commits = append(l.commits, c)
}

// check verifies each commit's counts against its events and returns the
// totals: events, local events, and whether any commit had a redaction.
func (l *commitLog) check(t *testing.T, origin string) (events, local int, redactions bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, c := range l.commits {
		mine, red := 0, false
		for _, e := range c.Events {
			if e.Device == origin {
				mine++
			}
			red = red || e.Type == event.RedactionType || e.Redacted()
		}
		if c.Local != mine || c.Redactions != red {
			t.Errorf("commit %d of %d events: Local %d, Redactions %v; its events say %d, %v", i, len(c.Events), c.Local, c.Redactions, mine, red)
		}
		events, local, redactions = events+len(c.Events), local+c.Local, redactions || c.Redactions
	}
	return events, local, redactions
}

// TestCommitCounts checks the counts the writer notes for OnCommit: local
// ingests, a peer's events, the device's own past handed back by a peer,
// and a redaction.
func TestCommitCounts(t *testing.T) {
	ka, kb := newKey(t, 30), newKey(t, 31)
	var la, lfresh commitLog
	cfg := testConfig(t.TempDir(), ka)
	cfg.OnCommit = la.hook
	a := openStore(t, cfg)
	b := openStore(t, testConfig(t.TempDir(), kb))
	defer b.Close()
	acks := ingest(t, a, inputs(5, "x"))
	ingest(t, b, inputs(4, "y"))
	seal, err := b.Seal(kb.origin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(context.Background(), allEvents(t, b, kb.origin), []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Redact(context.Background(), acks[0].EventID); err != nil {
		t.Fatal(err)
	}
	own := allEvents(t, a, ka.origin)
	ownSeal, err := a.Seal(ka.origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // OnCommit follows publishing: wait for it
		t.Fatal(err)
	}
	events, local, red := la.check(t, ka.origin)
	if events != 10 || local != 6 || !red {
		t.Fatalf("a's commits: %d events, %d local, redactions %v; want 10, 6 (5 ingested, 1 redaction), true", events, local, red)
	}

	// The device wiped, with its key kept: a peer hands back its past,
	// which counts as its own.
	cfg = testConfig(t.TempDir(), ka)
	cfg.OnCommit = lfresh.hook
	fresh := openStore(t, cfg)
	if _, err := fresh.Apply(context.Background(), own, []event.Seal{ownSeal}); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	if events, local, red := lfresh.check(t, ka.origin); events != 6 || local != 6 || !red {
		t.Fatalf("fresh store's commits: %d events, %d local, redactions %v; want 6, 6, true", events, local, red)
	}
}
