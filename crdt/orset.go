package crdt

import "slices"

// ORSet is the delta-state dot store of events: an add-wins OR-Set keyed by
// dot. It maps each present dot to its value and carries a causal context
// of every dot it has seen. A removed dot stays in the context (a
// tombstone), so merging a state that still holds the entry never
// resurrects it.
//
// A dot names one immutable event: states that both hold a dot are assumed
// to hold the same value, and Merge keeps the receiver's.
//
// The zero value is an empty set ready to use. An ORSet is not safe for
// concurrent use.
type ORSet[V any] struct {
	entries map[Dot]V
	ctx     *Context
}

// NewORSet returns an empty set.
func NewORSet[V any]() *ORSet[V] {
	return &ORSet[V]{entries: make(map[Dot]V), ctx: NewContext()}
}

func (s *ORSet[V]) init() {
	if s.entries == nil {
		s.entries = make(map[Dot]V)
	}
	if s.ctx == nil {
		s.ctx = NewContext()
	}
}

// Add records the event d with value v and returns the delta: that entry
// with d in its context. An invalid dot (see Dot.Valid) changes nothing and
// returns an empty delta. A dot already in the context is not changed (a
// removed dot stays removed, an entry keeps its value); the delta returned
// is then s's current state for d.
func (s *ORSet[V]) Add(d Dot, v V) *ORSet[V] {
	if !d.Valid() {
		return NewORSet[V]()
	}
	s.init()
	if s.ctx.Contains(d) {
		return s.deltaFor(d)
	}
	s.entries[d] = v
	s.ctx.Add(d)
	return s.deltaFor(d)
}

// Remove drops d's entry, keeps (or puts) d in the context, and returns the
// delta: d in its context, no entry. Removing a dot never seen makes sure it
// is never added. An invalid dot changes nothing and returns an empty delta.
func (s *ORSet[V]) Remove(d Dot) *ORSet[V] {
	if !d.Valid() {
		return NewORSet[V]()
	}
	s.init()
	delete(s.entries, d)
	s.ctx.Add(d)
	return s.deltaFor(d)
}

// deltaFor returns s's state restricted to the single dot d.
func (s *ORSet[V]) deltaFor(d Dot) *ORSet[V] {
	delta := NewORSet[V]()
	if v, ok := s.entries[d]; ok {
		delta.entries[d] = v
	}
	if s.ctx.Contains(d) {
		delta.ctx.Add(d)
	}
	return delta
}

// Merge joins o (a delta or a full state) into s. The join is commutative,
// associative and idempotent. o is not modified.
func (s *ORSet[V]) Merge(o *ORSet[V]) {
	if o == nil || o == s || (len(o.entries) == 0 && o.ctx.size() == 0) {
		return
	}
	s.init()
	// Entries of s that o has seen and removed go.
	if o.ctx.Len() <= uint64(len(s.entries)) {
		o.ctx.eachSpan(func(origin string, sp span) bool {
			for seq := sp.from; ; seq++ {
				d := Dot{origin, seq}
				if _, ok := o.entries[d]; !ok {
					delete(s.entries, d)
				}
				if seq == sp.to {
					return true
				}
			}
		})
	} else {
		for d := range s.entries {
			if _, ok := o.entries[d]; !ok && o.ctx.Contains(d) {
				delete(s.entries, d)
			}
		}
	}
	// Entries of o that s has never seen come in.
	for d, v := range o.entries {
		if !s.ctx.Contains(d) {
			s.entries[d] = v
		}
	}
	s.ctx.Merge(o.ctx)
}

// Extract returns the part of s within the given ranges, as a delta: the
// entries for those dots, and in its context the dots of the ranges that s
// has seen. With rs = s.Context().Missing(peer), merging the result into
// the peer's state brings it every event and tombstone of s for dots the
// peer had not seen. A removal of a dot the peer already holds is not in
// Missing; it reaches the peer as the delta Remove returned.
func (s *ORSet[V]) Extract(rs []Range) *ORSet[V] {
	out := NewORSet[V]()
	for _, r := range rs {
		if !r.Valid() {
			continue
		}
		st := s.ctx.state(r.Origin)
		if st == nil {
			continue
		}
		it := st.iterFrom(r.From)
		for sp, ok := it.peek(); ok && sp.from <= r.To; sp, ok = it.peek() {
			if sp.to >= r.From {
				out.ctx.AddRange(Range{r.Origin, max(sp.from, r.From), min(sp.to, r.To)})
			}
			it.next()
		}
	}
	if out.ctx.Len() <= uint64(len(s.entries)) {
		out.ctx.eachSpan(func(origin string, sp span) bool {
			for seq := sp.from; ; seq++ {
				d := Dot{origin, seq}
				if v, ok := s.entries[d]; ok {
					out.entries[d] = v
				}
				if seq == sp.to {
					return true
				}
			}
		})
		return out
	}
	for d, v := range s.entries {
		if out.ctx.Contains(d) {
			out.entries[d] = v
		}
	}
	return out
}

// Get returns the value of d, if d is present (added and not removed).
func (s *ORSet[V]) Get(d Dot) (V, bool) {
	v, ok := s.entries[d]
	return v, ok
}

// Len is the number of present entries.
func (s *ORSet[V]) Len() int { return len(s.entries) }

// Context returns s's causal context: every dot added or removed. It is
// owned by s and changes with it; callers must not modify it (Clone it to
// keep or change a copy).
func (s *ORSet[V]) Context() *Context {
	s.init()
	return s.ctx
}

// Dots returns the present dots, sorted by origin then seq.
func (s *ORSet[V]) Dots() []Dot {
	out := make([]Dot, 0, len(s.entries))
	for d := range s.entries {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Dot) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	return out
}

// Clone returns a copy of s. Values are copied as by assignment.
func (s *ORSet[V]) Clone() *ORSet[V] {
	out := &ORSet[V]{entries: make(map[Dot]V, len(s.entries)), ctx: s.ctx.Clone()}
	for d, v := range s.entries {
		out.entries[d] = v
	}
	return out
}

// EqualFunc reports whether s and o have the same context and the same
// entries, comparing values with eq.
func (s *ORSet[V]) EqualFunc(o *ORSet[V], eq func(a, b V) bool) bool {
	if len(s.entries) != len(o.entries) || !s.ctx.Equal(o.ctx) {
		return false
	}
	for d, v := range s.entries {
		ov, ok := o.entries[d]
		if !ok || !eq(v, ov) {
			return false
		}
	}
	return true
}
