package simulations

import (
	"fmt"
	"math"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

type eventT = event.Event

// helloSize is the size of a HELLO frame, header included.
var helloSize = uint64(syncproto.FrameSize(&syncproto.Hello{Versions: syncproto.SupportedVersions}))

// errMalformedFrame is what a receiver aborts with when a corrupted frame
// does not decode.
var errMalformedFrame = fmt.Errorf("%w: corrupted in transit", syncproto.ErrMalformed)

// Stream-mode constants: TCP segments carry mss bytes, and a lost one
// costs about one round trip to recover (fast retransmit), at least
// minRecovery.
const (
	mss         = 1400
	minRecovery = 200e6 // ns
)

// transmit sends m (nil: a synthesized HELLO) from side from of ss to the
// other side through the two nodes' links: serialization on the sender's
// uplink and the receiver's downlink, both latencies, and the faults.
func (s *sim) transmit(ss *session, from int, m syncproto.Message) {
	to := 1 - from
	a, b := ss.nodes[from], ss.nodes[to]
	size := int64(helloSize)
	if m != nil {
		size = int64(syncproto.FrameSize(m))
	}
	s.m.sent(s, size)
	if ss.sides[to].state == sDone || ss.closed {
		return // the stream is closed
	}
	la, lb := &a.cls.Link, &b.cls.Link
	t := max(s.now, a.upFree) + txTime(size, a.cls.bps)
	a.upFree = t
	delay := s.dur(la.Latency) + s.dur(lb.Latency)
	t += delay
	if b.cls.bps > 0 {
		t = max(t, b.downFree) + txTime(size, b.cls.bps)
		b.downFree = t
	}
	loss := combine(la.Loss, lb.Loss)
	if la.Mode == "stream" && lb.Mode == "stream" {
		// A reliable stream: lost segments are retransmitted, and frames
		// arrive in order, each after the one before.
		if loss > 0 {
			segs := float64((size + mss - 1) / mss)
			if k := s.poisson(segs * loss); k > 0 {
				s.m.net.Retransmits += uint64(k)
				t += int64(k) * max(int64(2*delay), minRecovery)
			}
		}
		t = max(t, ss.lastSeen[to])
		ss.lastSeen[to] = t
		s.queueMsg(ss, to, m, t, false)
		return
	}
	s.frameFaults(ss, to, m, t, delay, loss, la, lb)
}

// frameFaults applies frame-mode faults: loss, corruption, reordering and
// duplication reach the session as they are.
func (s *sim) frameFaults(ss *session, to int, m syncproto.Message, t, delay int64, loss float64, la, lb *Link) {
	if s.roll(loss) {
		s.m.net.Lost++
		return
	}
	malformed := false
	if m != nil && s.roll(combine(la.Corrupt, lb.Corrupt)) {
		s.m.net.Corrupted++
		m, malformed = s.corrupt(m)
	}
	if s.roll(combine(la.Reorder, lb.Reorder)) {
		s.m.net.Reordered++
		t += delay + s.dur(la.Latency) + s.dur(lb.Latency) // later frames overtake it
	} else {
		// Frames that are not reordered keep their order, as on one path.
		t = max(t, ss.lastSeen[to])
		ss.lastSeen[to] = t
	}
	s.queueMsg(ss, to, m, t, malformed)
	if s.roll(combine(la.Duplicate, lb.Duplicate)) {
		s.m.net.Duplicated++
		s.queueMsg(ss, to, m, t+1+s.rng.Int64N(max(delay, 1)), malformed)
	}
}

func (s *sim) queueMsg(ss *session, to int, m syncproto.Message, t int64, malformed bool) {
	it := item{kind: kDeliver, sess: ss, side: uint8(to), msg: m}
	if m == nil && !malformed {
		it.kind = kHello
	}
	if malformed {
		it.arg = 1
	}
	s.at(t, it)
}

// corrupt flips one to three bytes of m's frame and decodes it again; it
// reports whether the frame no longer decodes.
func (s *sim) corrupt(m syncproto.Message) (syncproto.Message, bool) {
	frame, err := syncproto.AppendFrame(nil, m)
	if err != nil {
		s.fail("unencodable %s: %v", m.Type(), err)
		return m, false
	}
	for k := 1 + s.rng.IntN(3); k > 0; k-- {
		frame[s.rng.IntN(len(frame))] ^= byte(1 + s.rng.IntN(255))
	}
	dm, err := syncproto.DecodeFrame(frame)
	if err != nil {
		return nil, true
	}
	return dm, false
}

func (s *sim) roll(p float64) bool { return p > 0 && s.rng.Float64() < p }

// combine is the probability that either end's fault happens.
func combine(p, q float64) float64 { return 1 - (1-p)*(1-q) }

// txTime is the serialization time in ns of size bytes at bps bytes/s.
func txTime(size int64, bps float64) int64 {
	if bps <= 0 {
		return 0
	}
	return int64(float64(size) / bps * 1e9)
}

// poisson draws a Poisson variate of mean lambda (normal approximation
// above 30).
func (s *sim) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= s.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
