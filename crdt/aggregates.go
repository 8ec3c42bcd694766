package crdt

import (
	"maps"
	"slices"
)

// Aggregates keeps one Agg per (event type, window, window start) for every
// window in Windows, and applies each event exactly once by its dot: a
// duplicated or reordered event stream gives the same state as applying
// each event once. Replicas that applied the same set of events hold equal
// Aggregates. The zero value is empty and ready to use. It is not safe for
// concurrent use.
type Aggregates struct {
	applied *Context
	aggs    map[AggKey]*Agg
}

// NewAggregates returns an empty set of aggregates.
func NewAggregates() *Aggregates {
	return &Aggregates{applied: NewContext(), aggs: make(map[AggKey]*Agg)}
}

// RestoreAggregates rebuilds Aggregates from persisted parts: the context of
// applied dots and the aggregates by key. It takes ownership of both.
func RestoreAggregates(applied *Context, aggs map[AggKey]*Agg) *Aggregates {
	if applied == nil {
		applied = NewContext()
	}
	if aggs == nil {
		aggs = make(map[AggKey]*Agg)
	}
	return &Aggregates{applied: applied, aggs: aggs}
}

// Apply adds the event d, of type typ at tsMillis (epoch ms), to the
// aggregate of each window holding it. It reports false, changing nothing,
// if d was already applied or is invalid (see Dot.Valid). value, hasValue
// and distinctKey are as for Agg.Observe.
func (s *Aggregates) Apply(d Dot, typ string, tsMillis int64, value float64, hasValue bool, distinctKey []byte) bool {
	if s.applied == nil {
		s.applied = NewContext()
	}
	if !s.applied.Add(d) {
		return false
	}
	if s.aggs == nil {
		s.aggs = make(map[AggKey]*Agg)
	}
	for _, w := range Windows {
		k := AggKey{Type: typ, Window: w, Start: w.Start(tsMillis)}
		a := s.aggs[k]
		if a == nil {
			a = NewAgg()
			s.aggs[k] = a
		}
		a.Observe(value, hasValue, distinctKey)
	}
	return true
}

// Get returns the aggregate for k. It is owned by s; callers must not
// modify it.
func (s *Aggregates) Get(k AggKey) (*Agg, bool) {
	a, ok := s.aggs[k]
	return a, ok
}

// Keys returns every key, sorted by type, window, then start.
func (s *Aggregates) Keys() []AggKey {
	keys := slices.Collect(maps.Keys(s.aggs))
	slices.SortFunc(keys, AggKey.Compare)
	return keys
}

// Applied returns the context of applied dots. It is owned by s; callers
// must not modify it.
func (s *Aggregates) Applied() *Context {
	if s.applied == nil {
		s.applied = NewContext()
	}
	return s.applied
}

// Delete drops the aggregate for k (retention). Its events stay applied, so
// they are never counted again.
func (s *Aggregates) Delete(k AggKey) { delete(s.aggs, k) }

// Equal reports whether s and o applied the same dots and hold equal
// aggregates.
func (s *Aggregates) Equal(o *Aggregates) bool {
	if len(s.aggs) != len(o.aggs) || !s.applied.Equal(o.applied) {
		return false
	}
	for k, a := range s.aggs {
		oa, ok := o.aggs[k]
		if !ok || !a.Equal(oa) {
			return false
		}
	}
	return true
}
