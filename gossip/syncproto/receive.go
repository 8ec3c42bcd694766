package syncproto

import (
	"cmp"
	"slices"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// receiver buffers the peer's unsealed run, verifies sealed runs, and owes
// the peer one ACK per DELTA, in order.
type receiver struct {
	pend      []*event.Event // the unsealed run so far
	pendRaw   [][]byte       // their encodings as received, nil where unknown
	lastRun   int            // events in the last sealed run, to size the next
	pendBytes int            // its DELTA payload bytes
	applying  []pendingApply // Apply effects not yet confirmed, oldest first
	heldBytes int            // DELTA payload bytes of those applies
	// last is, per origin, the last event this session handed out to be
	// applied and the highest seq it handed out: the next run of that
	// origin follows it, and checking that must not wait for the replica
	// to index what it just stored.
	last   map[string]lastApplied
	acks   []ackEntry // ACKs owed, in DELTA order
	digest [16]byte   // our HELLO digest as of the last confirmed apply
}

type lastApplied struct {
	seq, max uint64
	hash     event.Hash
}

// pendingApply is an Apply handed out and not yet confirmed: its events
// (of one origin, ascending by seq) count as held until then.
type pendingApply struct {
	events []*event.Event
	hashes []event.Hash
	bytes  int
}

// find returns the index of the event at d in a, or -1.
func (a *pendingApply) find(d crdt.Dot) int {
	evs := a.events
	if len(evs) == 0 || evs[0].Device != d.Origin || d.Seq < evs[0].Seq || d.Seq > evs[len(evs)-1].Seq {
		return -1
	}
	i, ok := slices.BinarySearchFunc(evs, d.Seq, func(e *event.Event, seq uint64) int { return cmp.Compare(e.Seq, seq) })
	if !ok {
		return -1
	}
	return i
}

// applyingEvent returns the event at d in an apply not yet confirmed, with
// its hash.
func (rc *receiver) applyingEvent(d crdt.Dot) (*event.Event, event.Hash, bool) {
	for i := len(rc.applying) - 1; i >= 0; i-- {
		a := &rc.applying[i]
		if j := a.find(d); j >= 0 {
			return a.events[j], a.hashes[j], true
		}
	}
	return nil, event.Hash{}, false
}

// maxOwedAcks bounds the ACKs a receiver owes: an honest sender has at most
// its Window (at most 1024) DELTAs unacknowledged.
const maxOwedAcks = 1024

type ackEntry struct {
	waiting bool   // until its Apply is confirmed
	applied uint64 // events it made us apply
}

// quiet reports whether nothing is pending on the receive side.
func (rc *receiver) quiet() bool {
	return len(rc.pend) == 0 && len(rc.applying) == 0 && len(rc.acks) == 0
}

func (s *Session) onDelta(d *Delta) error {
	rc := &s.rcv
	if !s.sentReq || s.gotDone {
		return violation(CodeUnexpected, "DELTA")
	}
	if !d.valid && d.Events == nil && d.enc != nil { // built from encodings and stepped in process
		var dd Delta
		if err := dd.decode(d.enc, d.encV); err != nil {
			return &ProtocolError{Code: CodeMalformed, Err: err}
		}
		d = &dd
	}
	if !d.valid {
		if err := checkDelta(d.Events, d.Seal); err != nil {
			return &ProtocolError{Code: CodeMalformed, Err: err}
		}
		for _, e := range d.Events {
			if err := e.Validate(); err != nil {
				return &ProtocolError{Code: CodeMalformed, Err: err}
			}
		}
	}
	first := d.Events[0]
	if n := len(rc.pend); n > 0 {
		last := rc.pend[n-1]
		if first.Device != last.Device {
			return violation(CodeWrongOrigin, "DELTA of %s inside a pending run of %s", first.Device, last.Device)
		}
		if first.Seq != last.Seq+1 {
			return violation(CodeNotContiguous, "DELTA from %s/%d after pending %d", first.Device, first.Seq, last.Seq)
		}
	}
	if len(rc.acks) >= maxOwedAcks {
		return violation(CodeFlowControl, "more than %d DELTAs unacknowledged", maxOwedAcks)
	}
	size := payloadLen(d, s.cfg.Version)
	if rc.pendBytes+rc.heldBytes+size > s.cfg.MaxPendingBytes {
		return violation(CodePendingLimit, "buffering %s beyond %d bytes", first.Device, s.cfg.MaxPendingBytes)
	}
	s.res.EventsIn += uint64(len(d.Events))
	if rc.pend == nil && d.Seal == nil { // a run of several DELTAs: as long as the last one, likely
		n := max(min(rc.lastRun, 1<<16), 2*len(d.Events))
		rc.pend, rc.pendRaw = make([]*event.Event, 0, n), make([][]byte, 0, n)
	}
	rc.pend = append(rc.pend, d.Events...)
	if len(d.raw) == len(d.Events) {
		rc.pendRaw = append(rc.pendRaw, d.raw...)
	} else {
		rc.pendRaw = append(rc.pendRaw, make([][]byte, len(d.Events))...)
	}
	rc.pendBytes += size
	if d.Seal == nil {
		rc.acks = append(rc.acks, ackEntry{})
		s.flushAcks()
		return nil
	}
	run, raws, runBytes := rc.pend, rc.pendRaw, rc.pendBytes
	rc.pend, rc.pendRaw, rc.pendBytes, rc.lastRun = nil, nil, 0, len(run)
	fresh, err := s.checkRun(run, raws, d.Seal)
	if err != nil {
		return err
	}
	if len(fresh.events) == 0 {
		rc.acks = append(rc.acks, ackEntry{})
	} else {
		s.emitApply(fresh, d.Seal, runBytes)
	}
	s.flushAcks()
	return nil
}

// freshEvents are the events of a verified run that we do not hold, with
// their hashes and, where known, their encodings as received.
type freshEvents struct {
	events  []*event.Event
	hashes  []event.Hash
	encoded [][]byte
}

// checkRun verifies a sealed run (raws[i], when not nil, is run[i]'s
// encoding as received) and compares it with what we hold. It returns the
// events we do not hold.
func (s *Session) checkRun(run []*event.Event, raws [][]byte, seal *event.Seal) (freshEvents, error) {
	var fresh freshEvents
	hashes, err := verifyRunEncoded(nil, run, raws, seal)
	if err != nil {
		return fresh, err
	}
	skip, err := s.checkRedactions(run)
	if err != nil {
		return fresh, err
	}
	first := run[0]
	if first.Seq > 1 {
		d := crdt.Dot{Origin: first.Device, Seq: first.Seq - 1}
		if h, ok := s.heldHash(d); ok && h != first.Prev {
			return fresh, violation(CodeFork, "sealed %s/%d does not follow the held %s", first.Device, first.Seq, d)
		}
	}
	if skip == 0 && s.noneHeld(first.Device, first.Seq) { // the common case: all new
		return freshEvents{events: run, hashes: hashes, encoded: raws}, nil
	}
	for i, e := range run {
		d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
		h, ok := s.heldHash(d)
		if !ok {
			if i < skip {
				continue // before a refused redaction: no seal of its own
			}
			fresh.events = append(fresh.events, e)
			fresh.hashes = append(fresh.hashes, hashes[i])
			fresh.encoded = append(fresh.encoded, raws[i])
			continue
		}
		if h != hashes[i] {
			s.recordFork(d, e)
			return freshEvents{}, violation(CodeFork, "sealed %s differs from the held event", d)
		}
	}
	return fresh, nil
}

// heldHash is the hash of the event at d, held or being applied.
func (s *Session) heldHash(d crdt.Dot) (event.Hash, bool) {
	if _, h, ok := s.rcv.applyingEvent(d); ok {
		return h, true
	}
	if l, ok := s.rcv.last[d.Origin]; ok && l.seq == d.Seq {
		return l.hash, true
	}
	return s.r.Hash(d)
}

// noneHeld reports whether no event of origin from seq from on is held or
// being applied, as far as can be told at once: the replica holds nothing
// of origin past Highest, and this session handed out nothing past its
// last.max.
func (s *Session) noneHeld(origin string, from uint64) bool {
	hr, ok := s.r.(HighestReader)
	if !ok {
		return false
	}
	if l, ok := s.rcv.last[origin]; ok && l.max >= from {
		return false
	}
	return hr.Highest(origin) < from
}

// HighestReader is implemented by a Replica that can tell at once the
// highest seq of an origin it holds or is storing (store.Store and
// MemReplica do): a received run above it needs no lookup per event.
type HighestReader interface {
	// Highest returns a seq past which the replica holds no event of
	// origin.
	Highest(origin string) uint64
}

func (s *Session) recordFork(d crdt.Dot, theirs *event.Event) {
	var ours *event.Event
	if e, _, ok := s.rcv.applyingEvent(d); ok {
		ours = e
	} else if evs, _, err := s.r.ReadRun(d.Origin, d.Seq, d.Seq, 1); err == nil && len(evs) > 0 && evs[0].Seq == d.Seq {
		ours = evs[0]
	}
	if ours != nil {
		s.res.Forks = append(s.res.Forks, [2]event.Event{*ours, *theirs})
	}
}

func (s *Session) emitApply(fresh freshEvents, seal *event.Seal, bytes int) {
	rc := &s.rcv
	addDots(&s.got, fresh.events)
	if rc.last == nil {
		rc.last = map[string]lastApplied{}
	}
	n := len(fresh.events) - 1
	origin, seq := fresh.events[n].Device, fresh.events[n].Seq
	rc.last[origin] = lastApplied{seq: seq, max: max(seq, rc.last[origin].max), hash: fresh.hashes[n]}
	rc.applying = append(rc.applying, pendingApply{events: fresh.events, hashes: fresh.hashes, bytes: bytes})
	rc.heldBytes += bytes
	rc.acks = append(rc.acks, ackEntry{waiting: true, applied: uint64(len(fresh.events))})
	s.out.Apply = append(s.out.Apply, Apply{Events: fresh.events, Hashes: fresh.hashes, Encoded: fresh.encoded,
		Seals: []*event.Seal{seal}})
}

// applied handles the confirmation of the oldest n applies: the replica
// holds their events now, so they are no longer kept here.
func (s *Session) applied(n int) {
	rc := &s.rcv
	var events int
	for _, a := range rc.applying[:n] {
		events += len(a.events)
		rc.heldBytes -= a.bytes
	}
	clear(rc.applying[:n])
	rc.applying = rc.applying[n:]
	s.res.Applied += uint64(events)
	for i := 0; i < len(rc.acks) && n > 0; i++ {
		if rc.acks[i].waiting {
			rc.acks[i].waiting = false
			n--
		}
	}
	if len(rc.applying) == 0 && len(rc.pend) == 0 && s.gotDone {
		rc.digest = digest16(s.r.Context())
	}
	s.flushAcks()
}

// flushAcks sends the owed ACKs that are no longer waiting, in order.
func (s *Session) flushAcks() {
	rc := &s.rcv
	i := 0
	for ; i < len(rc.acks) && !rc.acks[i].waiting; i++ {
		s.send(&Ack{Applied: rc.acks[i].applied, Digest: rc.digest})
	}
	rc.acks = rc.acks[i:]
}

// addDots adds the dots of events (ascending seqs of one origin) to c, a
// range at a time.
func addDots(c *crdt.Context, events []*event.Event) {
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].Seq == events[j-1].Seq+1 {
			j++
		}
		c.AddRange(crdt.Range{Origin: events[i].Device, From: events[i].Seq, To: events[j-1].Seq})
		i = j
	}
}
