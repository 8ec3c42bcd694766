package crdt

import (
	"slices"
	"strings"
)

// Context is a causal context: the set of dots a replica knows, kept as a
// compact version vector (per origin the contiguous maximum from 1) plus the
// few ranges beyond a gap. It is always compacted, so two Contexts holding
// the same dots have the same representation and the same encoding.
//
// The zero value is an empty Context ready to use. A Context is not safe for
// concurrent use. Read-only methods accept a nil *Context as the empty set.
type Context struct {
	m    map[string]*originState // by origin, for lookups
	list []*originState          // the same states, sorted by origin, for walks
	// hot is the state the last mutation went to: dots mostly come in
	// runs of one origin, and comparing a string is cheaper than hashing
	// it. Only mutations set it, so concurrent readers stay read-only.
	hot *originState
}

// NewContext returns an empty Context.
func NewContext() *Context { return &Context{} }

func (c *Context) state(origin string) *originState {
	if c == nil {
		return nil
	}
	if h := c.hot; h != nil && h.origin == origin {
		return h
	}
	return c.m[origin]
}

// stateFor returns the origin's state, creating it if needed.
func (c *Context) stateFor(origin string) *originState {
	if h := c.hot; h != nil && h.origin == origin {
		h.origin = origin // see below
		return h
	}
	if st := c.m[origin]; st != nil {
		// The state keeps the caller's copy of the (equal) name: callers
		// pass the same string for a run of dots (a decoder interns it),
		// and comparing a string with itself stops at the pointer.
		st.origin = origin
		c.hot = st
		return st
	}
	if c.m == nil {
		c.m = make(map[string]*originState)
	}
	st := &originState{origin: origin}
	c.m[origin] = st
	c.list = slices.Insert(c.list, c.search(origin), st)
	c.hot = st
	return st
}

// removeOrigin forgets every dot of origin.
func (c *Context) removeOrigin(origin string) {
	if _, ok := c.m[origin]; ok {
		if c.hot != nil && c.hot.origin == origin {
			c.hot = nil
		}
		delete(c.m, origin)
		i := c.search(origin)
		c.list = slices.Delete(c.list, i, i+1)
	}
}

// search is the position of origin in c.list, or where it would go.
func (c *Context) search(origin string) int {
	i, _ := slices.BinarySearchFunc(c.list, origin, func(st *originState, o string) int {
		return strings.Compare(st.origin, o)
	})
	return i
}

// Add adds d and reports whether it was new. An invalid dot (see Dot.Valid)
// is ignored and reports false.
func (c *Context) Add(d Dot) bool {
	// The common case first: the next seq of the origin last added to,
	// with nothing held beyond a gap (a run being applied or indexed).
	if h := c.hot; h != nil && h.origin == d.Origin && d.Seq == h.max+1 && len(h.extra) == 0 && d.Seq != 0 {
		h.max = d.Seq
		return true
	}
	if !d.Valid() || c.Contains(d) {
		return false
	}
	c.stateFor(d.Origin).insert(span{d.Seq, d.Seq})
	return true
}

// AddRange adds every dot of r. An invalid range (see Range.Valid) is
// ignored.
func (c *Context) AddRange(r Range) {
	if !r.Valid() {
		return
	}
	c.stateFor(r.Origin).insert(span{r.From, r.To})
}

// Contains reports whether d is in c.
func (c *Context) Contains(d Dot) bool {
	st := c.state(d.Origin)
	return st != nil && st.contains(d.Seq)
}

// Max is the origin's contiguous maximum: every seq in [1, Max] is held.
// It is 0 if the origin has no dot at 1.
func (c *Context) Max(origin string) uint64 {
	if st := c.state(origin); st != nil {
		return st.max
	}
	return 0
}

// Highest is the highest seq held for origin, beyond gaps included; 0 if
// none.
func (c *Context) Highest(origin string) uint64 {
	if st := c.state(origin); st != nil {
		return st.highest()
	}
	return 0
}

// Origins returns the origins with at least one dot, sorted. The slice is a
// copy.
func (c *Context) Origins() []string {
	if c == nil || len(c.list) == 0 {
		return nil
	}
	out := make([]string, len(c.list))
	for i, st := range c.list {
		out[i] = st.origin
	}
	return out
}

// Len is the number of dots held, saturating at the uint64 maximum.
func (c *Context) Len() uint64 {
	var n uint64
	if c != nil {
		for _, st := range c.m {
			n = addSat(n, st.count())
		}
	}
	return n
}

// Merge sets c to the union of c and o (the lattice join). o is not
// modified; it may be c itself.
func (c *Context) Merge(o *Context) {
	if o == nil || o == c {
		return
	}
	var added []*originState
	for _, ost := range o.list {
		st := c.m[ost.origin]
		if st == nil {
			if c.m == nil {
				c.m = make(map[string]*originState, len(o.m))
			}
			st = ost.clone()
			c.m[st.origin] = st
			added = append(added, st)
		} else {
			st.unionWith(ost)
		}
		c.hot = st // a mutation: merging one origin's run is common
	}
	if len(added) > 0 {
		c.list = mergeSorted(c.list, added)
	}
}

// Clone returns a deep copy of c.
func (c *Context) Clone() *Context {
	out := &Context{}
	if c == nil || len(c.m) == 0 {
		return out
	}
	out.m = make(map[string]*originState, len(c.m))
	out.list = make([]*originState, len(c.list))
	for i, st := range c.list {
		out.list[i] = st.clone()
		out.m[st.origin] = out.list[i]
	}
	return out
}

// Equal reports whether c and o hold the same dots.
func (c *Context) Equal(o *Context) bool {
	if c.size() != o.size() {
		return false
	}
	if c == nil || o == nil {
		return true
	}
	for k, st := range c.m {
		ost := o.m[k]
		if ost == nil || !st.equal(ost) {
			return false
		}
	}
	return true
}

func (c *Context) size() int {
	if c == nil {
		return 0
	}
	return len(c.m)
}

// Missing returns the dots c holds that o lacks, as maximal ranges sorted by
// origin then From. Merging them into o gives the union of c and o. The cost
// is O(origins + gaps) when both contexts are mostly contiguous.
func (c *Context) Missing(o *Context) []Range {
	if c == nil {
		return nil
	}
	var out []Range
	var olist []*originState
	if o != nil {
		olist = o.list
	}
	j := 0
	empty := &originState{}
	for _, st := range c.list { // a merge join of the two sorted lists
		for j < len(olist) && olist[j].origin < st.origin {
			j++
		}
		ost := empty
		if j < len(olist) && olist[j].origin == st.origin {
			ost = olist[j]
		}
		difference(st, ost, func(s span) {
			out = append(out, Range{Origin: st.origin, From: s.from, To: s.to})
		})
	}
	return out
}

// VersionVector returns the contiguous maximum of every origin whose
// maximum is at least 1.
func (c *Context) VersionVector() map[string]uint64 {
	vv := make(map[string]uint64, c.size())
	if c != nil {
		for k, st := range c.m {
			if st.max > 0 {
				vv[k] = st.max
			}
		}
	}
	return vv
}

// Ranges returns every dot held, as maximal ranges sorted by origin then
// From.
func (c *Context) Ranges() []Range { return c.Missing(nil) }

// eachSpan calls fn for every maximal span held, in order, until fn returns
// false.
func (c *Context) eachSpan(fn func(origin string, s span) bool) {
	if c == nil {
		return
	}
	for _, st := range c.list {
		it := newSpanIter(st)
		for s, ok := it.peek(); ok; s, ok = it.peek() {
			if !fn(st.origin, s) {
				return
			}
			it.next()
		}
	}
}

// mergeSorted merges two lists of states sorted by distinct origins.
func mergeSorted(a, b []*originState) []*originState {
	out := make([]*originState, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].origin < b[j].origin {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
