package gossip

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// TestNoHandlerAfterClose: stream handlers entering while the replicator
// closes either run to completion before quiesce returns or are refused;
// none is admitted after it returned (run with -race: an Add racing the
// group's Wait would also be reported).
func TestNoHandlerAfterClose(t *testing.T) {
	for range 200 {
		r := &Replicator{}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		var running, after atomic.Int32
		var done atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					if !r.enter() {
						continue
					}
					if done.Load() {
						after.Add(1)
					}
					running.Add(1)
					running.Add(-1)
					r.wg.Done()
				}
			})
		}
		r.quiesce()
		done.Store(true)
		if n := running.Load(); n != 0 {
			t.Fatalf("%d handlers still running after quiesce", n)
		}
		wg.Wait()
		if n := after.Load(); n != 0 {
			t.Fatalf("%d handlers admitted after quiesce returned", n)
		}
		if r.enter() {
			t.Fatal("a handler was admitted after Close")
		}
	}
}
