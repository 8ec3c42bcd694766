package gossip

import "sync"

// traceRing keeps the most recent session records.
type traceRing struct {
	mu   sync.Mutex
	recs []SessionRecord
	next int
	full bool
}

func newTraceRing(n int) *traceRing { return &traceRing{recs: make([]SessionRecord, n)} }

func (t *traceRing) add(rec SessionRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recs[t.next] = rec
	t.next = (t.next + 1) % len(t.recs)
	t.full = t.full || t.next == 0
}

// Sessions returns the most recent session records, newest first.
func (r *Replicator) Sessions() []SessionRecord {
	t := r.trace
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.next
	if t.full {
		n = len(t.recs)
	}
	out := make([]SessionRecord, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, t.recs[(t.next-i+len(t.recs))%len(t.recs)])
	}
	return out
}
