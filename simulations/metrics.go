package simulations

import (
	"errors"
	"math"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// snapshot is a node's context as of its last check.
type snapshot = crdt.Context

func dotOf(origin string, seq uint64) crdt.Dot { return crdt.Dot{Origin: origin, Seq: seq} }

// metrics accumulates what the report says.
type metrics struct {
	ref         int64    // convergence reference: the last heal (see refTime)
	frontier    []uint64 // per origin: events recorded before ref
	refSet      bool
	fTotal      int64 // events in the frontier
	fGone       int64 // of which destroyed
	pending     int   // available nodes missing frontier events
	convergedAt int64 // first time after ref with pending == 0; -1 before
	tracking    bool  // settling: count nodes missing any event
	incomplete  int

	bytes, bucketBytes, blobBytes, deliveries uint64
	lat                                       histogram
	sess                                      SessionStats
	net                                       NetStats
	samples                                   []Sample
	bytesSeries                               []BytesSample
	checks                                    Invariants
	cursor                                    int
}

func (m *metrics) init(s *sim) {
	m.ref = refTime(s.sc)
	m.convergedAt = -1
}

// refTime is when convergence is measured from: the last partition heal;
// without partitions, the last scheduled action; without either, when the
// workload stops.
func refTime(sc Scenario) int64 {
	var ref int64
	for _, p := range sc.Partitions {
		ref = max(ref, int64(p.Heal))
	}
	if len(sc.Partitions) == 0 {
		for _, a := range sc.Actions {
			ref = max(ref, int64(a.At))
		}
	}
	if ref == 0 {
		for _, c := range sc.Classes {
			ref = max(ref, int64(c.Workload.Stop))
		}
	}
	return min(ref, int64(sc.Duration))
}

func (m *metrics) sent(_ *sim, size int64) {
	m.bytes += uint64(size)
	m.bucketBytes += uint64(size)
	m.net.Frames++
}

func (m *metrics) recorded(s *sim, n *node, k int) {
	m.checks.Ingests++
	if m.tracking {
		m.recount(s)
	}
}

// delivered accounts for n applying event seq of o.
func (m *metrics) delivered(s *sim, n *node, o *origin, ent *entry, seq uint64) {
	m.deliveries++
	m.blobBytes += uint64(ent.blobs)
	m.lat.add(float64(s.now-ent.created) / 1e6)
	if m.refSet && int(o.idx) < len(m.frontier) && seq <= m.frontier[o.idx] {
		n.missF--
		m.refresh(s, n)
	}
	if m.tracking && n.available() && n.held == s.led.total-s.led.gone {
		if m.incomplete--; m.incomplete == 0 {
			s.stopped = true
		}
	}
}

// refresh updates whether n counts as missing frontier events.
func (m *metrics) refresh(s *sim, n *node) {
	if !m.refSet {
		return
	}
	want := n.available() && n.missF > m.fGone
	switch {
	case want && !n.pendingF:
		n.pendingF = true
		m.pending++
	case !want && n.pendingF:
		n.pendingF = false
		m.pending--
		if m.pending == 0 && m.convergedAt < 0 {
			m.convergedAt = s.now
		}
	}
}

// takeFrontier fixes the events the fleet must converge on after ref.
func (m *metrics) takeFrontier(s *sim) {
	m.refSet = true
	m.frontier = make([]uint64, len(s.led.origins))
	for i, o := range s.led.origins {
		m.frontier[i] = uint64(len(o.entries))
		m.fTotal += int64(len(o.entries))
		for _, e := range o.entries {
			if e.holders <= 0 {
				m.fGone++
			}
		}
	}
	for _, n := range s.nodes {
		n.missF = m.fTotal
		for _, r := range n.st.Context().Ranges() {
			f := m.frontier[s.led.byID[r.Origin]]
			if r.From <= f {
				n.missF -= int64(min(r.To, f) - r.From + 1)
			}
		}
		m.refresh(s, n)
	}
	if m.pending == 0 {
		m.convergedAt = s.now
	}
}

func (m *metrics) destroyed(s *sim, o *origin, seq uint64) {
	if m.refSet && int(o.idx) < len(m.frontier) && seq <= m.frontier[o.idx] {
		m.fGone++
	}
}

func (m *metrics) wiped(s *sim, n *node) {
	if m.refSet {
		n.missF = m.fTotal
		for _, x := range s.nodes {
			m.refresh(s, x)
		}
	}
	if m.tracking {
		m.recount(s)
	}
}

func (m *metrics) availability(s *sim, n *node) {
	m.refresh(s, n)
	if m.tracking {
		m.recount(s)
	}
}

// startSettle starts counting the nodes that miss any event; the run
// stops when none does.
func (m *metrics) startSettle(s *sim) {
	m.tracking = true
	m.recount(s)
}

func (m *metrics) recount(s *sim) {
	m.incomplete = 0
	live := s.led.total - s.led.gone
	for _, n := range s.nodes {
		if n.available() && n.held != live {
			m.incomplete++
		}
	}
	if m.incomplete == 0 {
		s.stopped = true
	}
}

// sessionDone accounts for a session whose initiator finished with res.
func (m *metrics) sessionDone(s *sim, ss *session, res syncproto.Result) {
	st := &m.sess
	st.EventsMoved += res.EventsIn + res.EventsOut
	st.durSum += float64(s.now-ss.start) / 1e6
	st.rtSum += float64(res.RoundTrips)
	switch err := res.Err; {
	case err == nil:
		st.Completed++
		if res.RoundTrips == 1 {
			st.InSync++
		}
	case errors.Is(err, syncproto.ErrTimeout):
		st.Timeouts++
	case errors.Is(err, syncproto.ErrProtocol):
		st.ProtocolErrors++
	case errors.Is(err, syncproto.ErrRemote):
		st.RemoteErrors++
	default:
		st.Aborted++
	}
}

// sample records a point of the time series (arg 1: take the
// convergence frontier instead) and runs the periodic checks.
func (s *sim) sample(it item) {
	m := &s.m
	if it.arg == 1 {
		m.takeFrontier(s)
		return
	}
	live := float64(s.led.total - s.led.gone)
	sums := make([]float64, len(s.topo.labels))
	counts := make([]int, len(s.topo.labels))
	var all float64
	up := 0
	for _, n := range s.nodes {
		if !n.up {
			continue
		}
		c := 1.0
		if live > 0 {
			c = float64(n.held) / live
		}
		sums[n.side] += c
		counts[n.side]++
		all += c
		up++
	}
	sm := Sample{T: round3(float64(s.now) / 1e9), All: round6(all / float64(max(up, 1))), Events: s.led.total}
	if len(sums) > 1 {
		sm.Sides = map[string]float64{}
		for i, l := range s.topo.labels {
			sm.Sides[l] = round6(sums[i] / float64(max(counts[i], 1)))
		}
	}
	m.samples = append(m.samples, sm)
	m.bytesSeries = append(m.bytesSeries, BytesSample{T: sm.T, Bytes: m.bucketBytes, Total: m.bytes})
	m.bucketBytes = 0
	s.checkContexts()
	if s.opt.Progress != nil {
		s.opt.Progress(time.Duration(s.now), time.Duration(s.end))
	}
	if next := s.now + int64(s.sc.Sample); next <= s.limit {
		s.at(next, item{kind: kSample})
	}
}

func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// histogram counts latencies in buckets 5% wide, from 1 µs.
type histogram struct {
	counts []uint64
	n      uint64
	max    float64
}

const histBase = 1.05

func (h *histogram) add(ms float64) {
	us := math.Max(ms*1e3, 1)
	b := int(math.Log(us) / math.Log(histBase))
	for len(h.counts) <= b {
		h.counts = append(h.counts, 0)
	}
	h.counts[b]++
	h.n++
	h.max = math.Max(h.max, ms)
}

// quantile returns the q-quantile in ms (the geometric middle of its
// bucket); 0 when empty.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	target := uint64(math.Ceil(q * float64(h.n)))
	var cum uint64
	for b, c := range h.counts {
		cum += c
		if cum >= max(target, 1) {
			return round3(math.Pow(histBase, float64(b)+0.5) / 1e3)
		}
	}
	return round3(h.max)
}
