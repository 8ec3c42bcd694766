package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// aggFold gathers consecutive events that share their type and their
// window in every granularity into one partial aggregate, merged into the
// aggregate of each window once the run ends: a catch-up's thousands of
// events per minute cost one observation each instead of one per window.
// Merging a partial is exact (crdt.Agg.Merge of a disjoint set of events,
// as the laws in crdt test), so the aggregates are the same either way.
// A run of one event is observed directly, as before.
type aggFold struct {
	typ    string
	starts [maxWindows]int64 // start of the run's window of each granularity
	n      int               // events in the run
	part   *crdt.Agg         // the run's events, once n > 1
	// first is the run's first event, observed into part only when a
	// second one comes.
	first struct {
		v    float64
		has  bool
		hash uint64
	}
	// seen is the distinct-count hash last observed into part: observing
	// it again changes nothing, so it is skipped.
	seen uint64
}

// maxWindows bounds crdt.Windows.
const maxWindows = 8

// holds reports whether e belongs to the run.
func (f *aggFold) holds(e *event.Event) bool {
	if e.Type != f.typ {
		return false
	}
	for i, w := range crdt.Windows {
		if w.Start(e.TS) != f.starts[i] {
			return false
		}
	}
	return true
}

// observe adds e, whose value is v (when has) and device hash hash, to the
// run, starting one when there is none.
func (f *aggFold) observe(e *event.Event, v float64, has bool, hash uint64) {
	switch f.n {
	case 0:
		f.typ = e.Type
		for i, w := range crdt.Windows {
			f.starts[i] = w.Start(e.TS)
		}
		f.first.v, f.first.has, f.first.hash = v, has, hash
	case 1:
		f.part = crdt.NewAgg()
		f.part.ObserveHashed(f.first.v, f.first.has, f.first.hash)
		f.seen = f.first.hash
		fallthrough
	default:
		if hash == f.seen {
			f.part.Observe(v, has, nil)
		} else {
			f.part.ObserveHashed(v, has, hash)
			f.seen = hash
		}
	}
	f.n++
}

// settle merges the run into the aggregate of each window and ends it.
func (a *aggCache) settle(txn *badger.Txn) error {
	f := &a.fold
	if f.n == 0 {
		return nil
	}
	for i, w := range crdt.Windows {
		agg, err := a.load(txn, crdt.AggKey{Type: f.typ, Window: w, Start: f.starts[i]})
		if err != nil {
			return err
		}
		if f.n == 1 {
			agg.ObserveHashed(f.first.v, f.first.has, f.first.hash)
		} else {
			agg.Merge(f.part)
		}
	}
	f.n, f.part = 0, nil
	return nil
}
