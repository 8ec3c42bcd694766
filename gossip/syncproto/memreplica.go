package syncproto

import (
	"fmt"
	"slices"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// MemReplica is an in-memory Replica for tests and simulations. Its Apply
// method is what a driver calls for an Apply effect. It is not safe for
// concurrent use.
type MemReplica struct {
	// IsOperator is the replica's redaction policy (see
	// event.Redaction.Authorize): nil allows a device to redact only its
	// own events.
	IsOperator func(device string) bool

	ctx    *crdt.Context
	logs   map[string]*memLog
	floors map[string]memFloor // see Prune
}

var (
	_ Replica    = (*MemReplica)(nil)
	_ Redactions = (*MemReplica)(nil)
	_ Floored    = (*MemReplica)(nil)

	_ HighestReader = (*MemReplica)(nil)
)

type memLog struct {
	events   map[uint64]memEntry
	seals    map[uint64]*event.Seal
	redacted []uint64 // seqs held in redacted form, ascending
}

type memEntry struct {
	ev   *event.Event
	hash event.Hash
	size int // bytes of the canonical encoding
}

// NewMemReplica returns an empty replica.
func NewMemReplica() *MemReplica {
	return &MemReplica{ctx: crdt.NewContext(), logs: make(map[string]*memLog), floors: make(map[string]memFloor)}
}

// Context returns a copy of the replica's causal context.
func (m *MemReplica) Context() *crdt.Context { return m.ctx.Clone() }

// Highest returns the highest seq of origin held (0 if none): the replica
// holds no event of origin past it.
func (m *MemReplica) Highest(origin string) uint64 { return m.ctx.Highest(origin) }

// Hash returns the hash of the held event at d.
func (m *MemReplica) Hash(d crdt.Dot) (event.Hash, bool) {
	if l := m.logs[d.Origin]; l != nil {
		if e, ok := l.events[d.Seq]; ok {
			return e.hash, true
		}
	}
	if f, ok := m.floors[d.Origin]; ok && f.seq == d.Seq {
		return f.hash, true
	}
	return event.Hash{}, false
}

// Event returns the held event at d.
func (m *MemReplica) Event(d crdt.Dot) (*event.Event, bool) {
	if l := m.logs[d.Origin]; l != nil {
		if e, ok := l.events[d.Seq]; ok {
			return e.ev, true
		}
	}
	return nil, false
}

// Seal returns the held seal at d.
func (m *MemReplica) Seal(d crdt.Dot) (*event.Seal, bool) {
	if l := m.logs[d.Origin]; l != nil {
		s, ok := l.seals[d.Seq]
		return s, ok
	}
	return nil, false
}

// ReadRun implements Replica.
func (m *MemReplica) ReadRun(origin string, from, to uint64, maxBytes int) ([]*event.Event, *event.Seal, error) {
	l := m.logs[origin]
	if l == nil || from == 0 {
		return nil, nil, nil
	}
	var out []*event.Event
	n := 0
	for seq := from; ; seq++ {
		e, ok := l.events[seq]
		if !ok || (len(out) > 0 && n+e.size > maxBytes) {
			return out, nil, nil
		}
		out = append(out, e.ev)
		n += e.size
		if s := l.seals[seq]; s != nil && seq >= to {
			return out, s, nil
		}
		if seq == ^uint64(0) {
			return out, nil, nil
		}
	}
}

// Apply stores a's events that are not held yet and its seals, and returns
// how many events were new. It trusts a: the session verified it. It fails
// only on events that cannot be stored (nil, or not a valid dot), before
// storing anything.
func (m *MemReplica) Apply(a Apply) (int, error) {
	for _, e := range a.Events {
		if e == nil || !(crdt.Dot{Origin: e.Device, Seq: e.Seq}).Valid() {
			return 0, fmt.Errorf("syncproto: MemReplica.Apply: invalid event")
		}
	}
	for _, s := range a.Seals {
		if s == nil || !(crdt.Dot{Origin: s.Origin, Seq: s.Seq}).Valid() {
			return 0, fmt.Errorf("syncproto: MemReplica.Apply: invalid seal")
		}
	}
	added := 0
	var buf []byte
	for i, e := range a.Events {
		l := m.log(e.Device)
		if _, ok := l.events[e.Seq]; ok {
			continue
		}
		buf = e.AppendBinary(buf[:0])
		ent := memEntry{ev: e, size: len(buf)}
		if len(a.Hashes) == len(a.Events) {
			ent.hash = a.Hashes[i]
		} else {
			ent.hash = e.Hash()
		}
		l.events[e.Seq] = ent
		if e.Redacted() {
			l.markRedacted(e.Seq)
		}
		m.ctx.Add(crdt.Dot{Origin: e.Device, Seq: e.Seq})
		added++
	}
	for _, s := range a.Seals {
		l := m.log(s.Origin)
		if _, ok := l.seals[s.Seq]; !ok {
			l.seals[s.Seq] = s
		}
	}
	return added, nil
}

func (m *MemReplica) log(origin string) *memLog {
	l := m.logs[origin]
	if l == nil {
		l = &memLog{events: make(map[uint64]memEntry), seals: make(map[uint64]*event.Seal)}
		m.logs[origin] = l
	}
	return l
}

// Clone returns a replica holding the same events and seals. Events and
// seals are shared, as they are immutable.
func (m *MemReplica) Clone() *MemReplica {
	c := &MemReplica{IsOperator: m.IsOperator, ctx: m.ctx.Clone(), logs: make(map[string]*memLog, len(m.logs)), floors: make(map[string]memFloor, len(m.floors))}
	for o, f := range m.floors {
		c.floors[o] = f
	}
	for o, l := range m.logs {
		cl := &memLog{events: make(map[uint64]memEntry, len(l.events)), seals: make(map[uint64]*event.Seal, len(l.seals)),
			redacted: slices.Clone(l.redacted)}
		for k, v := range l.events {
			cl.events[k] = v
		}
		for k, v := range l.seals {
			cl.seals[k] = v
		}
		c.logs[o] = cl
	}
	return c
}

// Verify checks everything the replica holds: every contiguous block of an
// origin's events is a valid hash chain (from a zero Prev when it starts at
// seq 1) ending with a valid seal over its last event, and every held seal
// verifies and names the hash of the event it covers. Simulations use it to
// check that nothing invalid was ever applied.
func (m *MemReplica) Verify() error {
	for _, r := range m.ctx.Ranges() {
		l, f := m.logs[r.Origin], m.floors[r.Origin]
		if r.To <= f.seq {
			continue
		}
		var prev *event.Hash
		switch {
		case r.From > f.seq+1:
		case f.seq > 0:
			r.From, prev = f.seq+1, &f.hash
		default:
			prev = new(event.Hash)
		}
		run := make([]*event.Event, 0, r.Len())
		for seq := r.From; seq <= r.To; seq++ {
			run = append(run, l.events[seq].ev)
		}
		if _, err := verifyRun(prev, run, l.seals[r.To]); err != nil {
			return fmt.Errorf("syncproto: replica block %s: %w", r, err)
		}
	}
	for origin, l := range m.logs {
		for seq, s := range l.seals {
			e, ok := l.events[seq]
			if f := m.floors[origin]; !ok && f.seq == seq {
				e, ok = memEntry{hash: f.hash}, true
			}
			if !ok || e.hash != s.Head || s.Origin != origin {
				return fmt.Errorf("syncproto: replica seal %s/%d covers no held event", origin, seq)
			}
			if err := s.Verify(); err != nil {
				return fmt.Errorf("syncproto: replica seal %s/%d: %w", origin, seq, err)
			}
		}
	}
	return nil
}

// Redact replaces the held event r targets by its redacted form, once r
// passes the replica's policy (CheckRedaction). Redacting an event already
// redacted changes nothing.
func (m *MemReplica) Redact(r *event.Redaction) error {
	if err := m.CheckRedaction(r); err != nil {
		return err
	}
	l := m.logs[r.Device]
	if l == nil {
		return fmt.Errorf("syncproto: MemReplica.Redact: %s/%d not held", r.Device, r.Seq)
	}
	ent, ok := l.events[r.Seq]
	switch {
	case !ok:
		return fmt.Errorf("syncproto: MemReplica.Redact: %s/%d not held", r.Device, r.Seq)
	case ent.ev.Redacted():
		return nil
	case !r.Targets(ent.ev):
		return fmt.Errorf("syncproto: MemReplica.Redact: redaction does not match %s/%d", r.Device, r.Seq)
	}
	stub := r.Stub()
	l.events[r.Seq] = memEntry{ev: stub, hash: ent.hash, size: stub.EncodedLen()}
	l.markRedacted(r.Seq)
	return nil
}

// CheckRedaction implements Redactions with the IsOperator policy.
func (m *MemReplica) CheckRedaction(r *event.Redaction) error { return r.Check(m.IsOperator) }

// FirstRedacted implements Redactions.
func (m *MemReplica) FirstRedacted(origin string, from uint64) (uint64, bool) {
	l := m.logs[origin]
	if l == nil {
		return 0, false
	}
	i, _ := slices.BinarySearch(l.redacted, from)
	if i == len(l.redacted) {
		return 0, false
	}
	return l.redacted[i], true
}

// SealBefore implements Redactions.
func (m *MemReplica) SealBefore(origin string, seq uint64) (*event.Seal, bool) {
	l := m.logs[origin]
	if l == nil {
		return nil, false
	}
	var best *event.Seal
	for s, seal := range l.seals {
		if s < seq && (best == nil || s > best.Seq) {
			best = seal
		}
	}
	return best, best != nil
}

func (l *memLog) markRedacted(seq uint64) {
	if i, found := slices.BinarySearch(l.redacted, seq); !found {
		l.redacted = slices.Insert(l.redacted, i, seq)
	}
}
