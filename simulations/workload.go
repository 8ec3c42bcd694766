package simulations

import (
	"math"
	"time"
)

// ingestAt handles a workload timer: a regular ingest (kIngest) or a burst
// (kBurst) at a node, then queues the next one. A crashed device records
// nothing; an offline one records as usual.
func (s *sim) ingestAt(it item) {
	n := s.nodes[it.node]
	w := &n.cls.Workload
	if s.settle || s.now >= int64(w.Stop) {
		return
	}
	count := 0
	var next int64
	if it.kind == kBurst {
		count = int(math.Round(w.Bursts.Size.Sample(s.rng)))
		next = s.now + max(1, s.dur(w.Bursts.Every))
	} else {
		count = int(math.Round(w.Batch.Sample(s.rng)))
		next = s.now + max(1, s.expWait(w.Rate.PerSecond()))
	}
	if n.up && count > 0 {
		s.record(n, count)
	}
	if s.err == nil {
		s.at(next, item{kind: it.kind, node: n.idx})
	}
}

// record makes n ingest one durable, sealed batch of count events.
func (s *sim) record(n *node, count int) {
	if n.origin == nil {
		o, err := s.led.newOrigin(s.seed, n.idx, n.incarnation)
		if err != nil {
			s.fail("node %d: %v", n.idx, err)
			return
		}
		n.origin = o
	}
	w := &n.cls.Workload
	events, hashes, seal, err := s.led.record(n.origin, s.rng, s.now, n.skew,
		batchSpec{n: count, pdist: w.Payload, typ: w.Type, blobs: w.Blobs})
	if err != nil {
		s.fail("node %d: record: %v", n.idx, err)
		return
	}
	if err := n.st.ingest(events, hashes, seal); err != nil {
		s.fail("node %d: ingest: %v", n.idx, err)
		return
	}
	for _, e := range events {
		s.led.origins[n.origin.idx].entries[e.Seq-1].holders = 1
		s.addHeld(n, e)
	}
	s.m.recorded(s, n, len(events))
	if s.opt.Trace {
		s.trace = append(s.trace, Ingest{At: time.Duration(s.now), Node: int(n.idx), Events: len(events)})
	}
}

// received records that n applied e, received from a peer.
func (s *sim) received(n *node, e *eventT) {
	ent, o := s.led.lookup(dotOf(e.Device, e.Seq))
	ent.holders++
	s.addHeld(n, e)
	s.m.delivered(s, n, o, ent, e.Seq)
}
