package simulations

import (
	"errors"
	"slices"

	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// Reasons a driver aborts a session (Session.Abort).
var (
	errCrashed = errors.New("simulations: peer crashed")
	errOffline = errors.New("simulations: peer went offline")
	errCut     = errors.New("simulations: partition cut the link")
)

// Session side states.
const (
	sNone  uint8 = iota // no message reached the responder yet
	sSynth              // the initiator's HELLO was synthesized (fast path)
	sReal               // driven by a syncproto.Session
	sDone
)

// session is one anti-entropy session between two nodes, driven through
// the simulated network. Side 0 is the initiator.
type session struct {
	id       uint64
	nodes    [2]*node
	gens     [2]uint32
	sides    [2]side
	start    int64
	closed   bool
	helloFP  [2]uint64 // the initiator's fingerprint when its synthesized HELLO left
	helloN   uint64    // and its event count
	lastSeen [2]int64  // stream mode: the last delivery time towards each side
}

type side struct {
	s       *syncproto.Session
	state   uint8
	idle    int               // ticks of a synthesized side
	applies []syncproto.Apply // emitted, not yet durable
	res     syncproto.Result
}

// startSession opens a session from a to b.
func (s *sim) startSession(a, b *node) {
	s.sessID++
	ss := &session{id: s.sessID, nodes: [2]*node{a, b}, gens: [2]uint32{a.gen, b.gen}, start: s.now}
	a.active = append(a.active, ss)
	b.active = append(b.active, ss)
	a.outbound++
	s.m.sess.Started++
	if s.fast {
		ss.sides[0].state = sSynth
		ss.helloFP, ss.helloN = a.fp, a.held
		s.transmit(ss, 0, nil)
	} else {
		ss.sides[0].state = sReal
		ss.sides[0].s = syncproto.NewSession(s.cfg, a.st, true)
		s.handle(ss, 0, ss.sides[0].s.Start())
	}
	s.at(s.now+int64(s.sc.Sync.Tick), item{kind: kTick, sess: ss})
}

// deliver hands a message (or a synthesized HELLO, or a frame that did
// not decode) to side i.
func (s *sim) deliver(ss *session, i int, m syncproto.Message, synth, malformed bool) {
	sd := &ss.sides[i]
	if ss.closed || sd.state == sDone {
		return
	}
	if malformed {
		s.materialize(ss, i)
		s.handle(ss, i, sd.s.Abort(errMalformedFrame))
		return
	}
	switch sd.state {
	case sNone: // the responder's first message
		if synth && ss.nodes[1].fp == ss.helloFP && ss.nodes[1].held == ss.helloN {
			// Equal replicas: the real responder would answer with its
			// HELLO and be done after one round trip.
			s.finishSide(ss, 1, syncproto.Result{RoundTrips: 1, BytesIn: helloSize, BytesOut: helloSize})
			s.transmit(ss, 1, nil)
			return
		}
		s.materialize(ss, 1)
		if synth {
			m = ss.fakeHello(s.cfg.Schema)
		}
	case sSynth: // the initiator hears back
		if synth { // the responder found the replicas equal
			s.finishSide(ss, 0, syncproto.Result{RoundTrips: 1, BytesIn: helloSize, BytesOut: helloSize})
			return
		}
		ours := s.materialize(ss, 0)
		if h, ok := m.(*syncproto.Hello); ok {
			// The real initiator compared this digest with the one it sent
			// earlier, which differs (the replicas were not equal then); a
			// session started now must reach the same verdict.
			c := *h
			c.Digest = ours.Digest
			c.Digest[0] ^= 0xff
			m = &c
		}
	default:
		if synth {
			m = ss.fakeHello(s.cfg.Schema)
		}
	}
	rd, _ := sd.s.Step(m)
	s.handle(ss, i, rd)
}

// fakeHello is the initiator's HELLO as a real responder receives it. The
// responder only compares its digest with its own, and they differ, so
// any digest that cannot equal a real one serves.
func (ss *session) fakeHello(schema uint32) *syncproto.Hello {
	h := &syncproto.Hello{Schema: schema, Events: ss.helloN, Versions: syncproto.SupportedVersions}
	for k := range 8 {
		h.Digest[k] = byte(ss.helloFP[0] >> (8 * k))
		h.Digest[8+k] = byte(ss.helloFP[1]>>(8*k)) ^ 0x5a
	}
	return h
}

// materialize gives side i a real syncproto.Session in the state the
// fast path left it in, and returns the HELLO it would have sent, if any.
func (s *sim) materialize(ss *session, i int) *syncproto.Hello {
	sd := &ss.sides[i]
	if sd.s != nil {
		return nil
	}
	sd.s = syncproto.NewSession(s.cfg, ss.nodes[i].st, i == 0)
	rd := sd.s.Start()
	if sd.state == sNone {
		sd.state = sReal
		return nil
	}
	sd.state = sReal
	if len(rd.Send) == 1 {
		h, _ := rd.Send[0].(*syncproto.Hello)
		return h
	}
	return nil
}

// handle routes side i's Ready: messages to the peer, applies to the
// node's storage queue.
func (s *sim) handle(ss *session, i int, rd syncproto.Ready) {
	for _, m := range rd.Send {
		s.transmit(ss, i, m)
	}
	n := ss.nodes[i]
	for _, a := range rd.Apply {
		ss.sides[i].applies = append(ss.sides[i].applies, a)
		s.at(s.now+int64(s.sc.Sync.ApplyLatency), item{kind: kPersist, sess: ss, side: uint8(i), node: n.idx, gen: n.gen})
	}
	if rd.Done {
		s.finishSide(ss, i, rd.Result)
	}
}

// tick ticks both sides of a session.
func (s *sim) tick(ss *session) {
	if ss.closed {
		return
	}
	for i := range ss.sides {
		sd := &ss.sides[i]
		switch sd.state {
		case sReal:
			s.handle(ss, i, sd.s.Tick())
		case sSynth:
			if sd.idle++; sd.idle >= s.sc.Sync.IdleTicks {
				s.materialize(ss, i)
				var rd syncproto.Ready
				for !rd.Done && !sd.s.Done() {
					rd = sd.s.Tick()
				}
				s.handle(ss, i, rd)
			}
		}
	}
	if !ss.closed {
		s.at(s.now+int64(s.sc.Sync.Tick), item{kind: kTick, sess: ss})
	}
}

// persist makes the oldest pending apply of a session side durable.
func (s *sim) persist(it item) {
	ss, i := it.sess, int(it.side)
	n := ss.nodes[i]
	sd := &ss.sides[i]
	if it.gen != n.gen || len(sd.applies) == 0 {
		return // the node crashed first: the apply is lost, as unsynced writes are
	}
	a := sd.applies[0]
	sd.applies = sd.applies[1:]
	if !s.checkApply(n, a) {
		return
	}
	if err := n.st.apply(a, func(e *eventT) { s.received(n, e) }); err != nil {
		s.fail("node %d: apply: %v", n.idx, err)
		return
	}
	if sd.state == sReal && !sd.s.Done() {
		s.handle(ss, i, sd.s.Applied(1))
	}
}

// finishSide records side i's outcome and frees its slot.
func (s *sim) finishSide(ss *session, i int, res syncproto.Result) {
	sd := &ss.sides[i]
	if sd.state == sDone {
		return
	}
	sd.state, sd.res = sDone, res
	n := ss.nodes[i]
	n.active = slices.DeleteFunc(n.active, func(x *session) bool { return x == ss })
	if i == 0 {
		n.outbound--
		s.m.sessionDone(s, ss, res)
		if ss.sides[1].state == sNone {
			s.finishSide(ss, 1, syncproto.Result{})
		}
	}
	if ss.sides[0].state == sDone && ss.sides[1].state == sDone {
		ss.closed = true
	}
}

// abortSession ends both sides because the link between them broke.
func (s *sim) abortSession(ss *session, err error) {
	for i := range ss.sides {
		sd := &ss.sides[i]
		switch sd.state {
		case sNone:
			s.finishSide(ss, i, syncproto.Result{Err: err})
		case sSynth, sReal:
			s.materialize(ss, i)
			s.handle(ss, i, sd.s.Abort(err))
		}
	}
}

// abortAll ends every session of n, which crashed or went offline: its
// own sides vanish (a crash) or fail (offline), its peers' sides fail.
func (s *sim) abortAll(n *node, err error) {
	for _, ss := range slices.Clone(n.active) {
		if err == errCrashed {
			for i := range ss.sides {
				if ss.nodes[i] == n && ss.sides[i].state != sDone {
					ss.sides[i].applies = nil
					s.finishSide(ss, i, syncproto.Result{Err: err})
				}
			}
		}
		s.abortSession(ss, err)
	}
}
