package crdt

import "sort"

// span is an inclusive interval of seqs, 1 <= from <= to.
type span struct{ from, to uint64 }

// originState is one origin's part of a Context: every seq in [1, max] plus
// the extra spans. Invariant (the compacted form): extra is sorted, its spans
// are disjoint and non-adjacent, and extra[0].from >= max+2.
type originState struct {
	origin string
	max    uint64
	extra  []span
}

func (st *originState) empty() bool { return st.max == 0 && len(st.extra) == 0 }

func (st *originState) clone() *originState {
	c := &originState{origin: st.origin, max: st.max}
	if len(st.extra) > 0 {
		c.extra = append([]span(nil), st.extra...)
	}
	return c
}

func (st *originState) equal(o *originState) bool {
	if st.max != o.max || len(st.extra) != len(o.extra) {
		return false
	}
	for i := range st.extra {
		if st.extra[i] != o.extra[i] {
			return false
		}
	}
	return true
}

func (st *originState) highest() uint64 {
	if n := len(st.extra); n > 0 {
		return st.extra[n-1].to
	}
	return st.max
}

// count is the number of seqs held, saturating at the uint64 maximum.
func (st *originState) count() uint64 {
	n := st.max
	for _, s := range st.extra {
		n = addSat(n, s.to-s.from+1)
	}
	return n
}

func (st *originState) contains(seq uint64) bool {
	if seq == 0 {
		return false
	}
	if seq <= st.max {
		return true
	}
	i := sort.Search(len(st.extra), func(i int) bool { return st.extra[i].to >= seq })
	return i < len(st.extra) && st.extra[i].from <= seq
}

// insert adds every seq of s (s.from >= 1) and keeps the state compacted.
func (st *originState) insert(s span) {
	if s.to <= st.max {
		return
	}
	if s.from-1 <= st.max { // touches the contiguous prefix: extend and absorb
		st.max = s.to
		k := 0
		for k < len(st.extra) && st.extra[k].from-1 <= st.max {
			st.max = max(st.max, st.extra[k].to)
			k++
		}
		st.extra = dropPrefix(st.extra, k)
		return
	}
	// i: first extra span that overlaps or touches s from below.
	i := sort.Search(len(st.extra), func(i int) bool { return st.extra[i].to >= s.from-1 })
	// j: first extra span entirely beyond s, not touching it.
	j := i
	for j < len(st.extra) && st.extra[j].from-1 <= s.to {
		j++
	}
	if i < j {
		s.from = min(s.from, st.extra[i].from)
		s.to = max(s.to, st.extra[j-1].to)
		st.extra[i] = s
		st.extra = append(st.extra[:i+1], st.extra[j:]...)
		return
	}
	st.extra = append(st.extra, span{})
	copy(st.extra[i+1:], st.extra[i:])
	st.extra[i] = s
}

// push appends s to a state being built in ascending order of from,
// coalescing it with the last span when they overlap or touch.
func (st *originState) push(s span) {
	if n := len(st.extra); n > 0 {
		last := &st.extra[n-1]
		if s.from-1 <= last.to {
			last.to = max(last.to, s.to)
			return
		}
		st.extra = append(st.extra, s)
		return
	}
	if s.from-1 <= st.max {
		st.max = max(st.max, s.to)
		return
	}
	st.extra = append(st.extra, s)
}

// spanIter walks a state's spans in order: [1, max] first, then extra.
type spanIter struct {
	st *originState
	i  int // -1: the prefix span
}

func newSpanIter(st *originState) spanIter {
	if st.max > 0 {
		return spanIter{st: st, i: -1}
	}
	return spanIter{st: st}
}

// iterFrom starts at the first span that ends at or after seq.
func (st *originState) iterFrom(seq uint64) spanIter {
	if st.max > 0 && st.max >= seq {
		return spanIter{st: st, i: -1}
	}
	return spanIter{st: st, i: sort.Search(len(st.extra), func(i int) bool { return st.extra[i].to >= seq })}
}

func (it *spanIter) peek() (span, bool) {
	if it.i < 0 {
		return span{1, it.st.max}, true
	}
	if it.i < len(it.st.extra) {
		return it.st.extra[it.i], true
	}
	return span{}, false
}

func (it *spanIter) next() { it.i++ }

// unionWith sets st to the compacted union of st and o.
func (st *originState) unionWith(o *originState) {
	switch {
	case len(o.extra) == 0 && o.max <= st.max:
		return
	case len(st.extra) == 0 && st.max <= o.max:
		st.max, st.extra = o.max, append(st.extra[:0], o.extra...)
		return
	}
	u := union(st, o)
	st.max, st.extra = u.max, u.extra
}

// union is the compacted union of two states. Neither input is modified.
func union(a, b *originState) *originState {
	out := &originState{origin: a.origin}
	ia, ib := newSpanIter(a), newSpanIter(b)
	for {
		sa, okA := ia.peek()
		sb, okB := ib.peek()
		switch {
		case !okA && !okB:
			return out
		case okA && (!okB || sa.from <= sb.from):
			out.push(sa)
			ia.next()
		default:
			out.push(sb)
			ib.next()
		}
	}
}

// difference calls emit for every maximal span of seqs in a but not in b,
// in ascending order.
func difference(a, b *originState, emit func(span)) {
	if a.highest() <= b.max {
		return
	}
	ia, ib := newSpanIter(a), newSpanIter(b)
	for {
		sa, ok := ia.peek()
		if !ok {
			return
		}
		subtractSpan(sa, &ib, emit)
		ia.next()
	}
}

func subtractSpan(sa span, ib *spanIter, emit func(span)) {
	cur := sa.from
	for {
		sb, ok := ib.peek()
		if !ok || sb.from > sa.to {
			break
		}
		if sb.to < cur {
			ib.next()
			continue
		}
		if sb.from > cur {
			emit(span{cur, sb.from - 1})
		}
		if sb.to >= sa.to {
			return // b covers the rest of sa; b's span may reach into the next one
		}
		cur = sb.to + 1
		ib.next()
	}
	emit(span{cur, sa.to})
}

func dropPrefix(s []span, k int) []span {
	if k == 0 {
		return s
	}
	if k == len(s) {
		return nil
	}
	return append(s[:0], s[k:]...)
}

func addSat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}
