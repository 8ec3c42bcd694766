package simulations

import (
	"math"
	"slices"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// classRT is a class at run time.
type classRT struct {
	Class
	idx      int
	first    int     // index of its first node
	peers    []int   // class indexes its nodes open sessions with
	interval int64   // ns
	bps      float64 // link bytes per second, 0 unlimited
}

// node is one simulated device.
type node struct {
	idx         int32
	cls         *classRT
	up, online  bool   // not crashed; not offline
	erased      bool   // wiped, waiting for its restart
	gen         uint32 // bumped on crash and restart: stale timers drop
	incarnation uint32
	emitter     bool
	origin      *origin // current identity's log, created at the first ingest
	st          store
	held        uint64    // events held
	fp          [2]uint64 // multiset hash of the held dots (fast path)
	active      []*session
	outbound    int
	upFree      int64 // when its uplink is free (ns)
	downFree    int64
	skew        int64   // clock offset, ns
	rate        float64 // timer stretch from clock drift
	groups      [2]int32
	ngroups     int8
	pos         [2]int32 // position in topo.live[groups[k]][class]
	side        int      // label index for per-side series
	missF       int64    // frontier events not held (convergence)
	pendingF    bool     // counted in metrics.pending
	snap        *snapshot
}

func (n *node) available() bool { return n.up && n.online }

// build creates the classes and nodes.
func (s *sim) build() {
	first := 0
	for i := range s.sc.Classes {
		c := &classRT{Class: s.sc.Classes[i], idx: i, first: first}
		first += c.Count
		iv := c.Interval
		if iv == 0 {
			iv = s.sc.Sync.Interval
		}
		c.interval = int64(iv)
		c.bps = c.Link.Bandwidth.BytesPerSecond()
		s.classes = append(s.classes, c)
		if c.Link.Mode == "frame" && c.Link.Corrupt > 0 {
			s.fast = false // a corrupted synthesized HELLO has no real bytes to flip
		}
	}
	for _, c := range s.classes {
		if len(c.Peers) == 0 {
			for j := range s.classes {
				c.peers = append(c.peers, j)
			}
			continue
		}
		for _, p := range c.Peers {
			c.peers = append(c.peers, slices.IndexFunc(s.classes, func(x *classRT) bool { return x.Name == p }))
		}
	}
	for _, c := range s.classes {
		emitters := 0.0
		if c.Workload.Emitters != nil {
			emitters = *c.Workload.Emitters
		}
		for k := range c.Count {
			n := &node{idx: int32(len(s.nodes)), cls: c, up: true, online: c.Online == nil, rate: 1}
			n.st = s.newStore()
			// Emitters are spread evenly over the class (and so over the sides).
			n.emitter = math.Floor(float64(k+1)*emitters+0.5) > math.Floor(float64(k)*emitters+0.5)
			n.skew = int64(c.Skew.Sample(s.rng) * 1e9)
			if !c.Drift.IsZero() {
				n.rate = math.Max(0.5, 1+c.Drift.Sample(s.rng)*1e-6)
			}
			s.nodes = append(s.nodes, n)
		}
	}
	s.topo.init(s)
}

func (s *sim) newStore() store {
	if s.opt.Replica == ReplicaMem {
		return memStore{syncproto.NewMemReplica()}
	}
	return newLedgerStore(s.led)
}

// schedule queues every node's first timers and the scenario's events.
func (s *sim) schedule() {
	for _, n := range s.nodes {
		s.scheduleAE(n)
		c := n.cls
		if n.emitter && c.Workload.Rate > 0 {
			s.at(int64(c.Workload.Start)+s.expWait(c.Workload.Rate.PerSecond()), item{kind: kIngest, node: n.idx})
		}
		if n.emitter && c.Workload.Bursts != nil {
			s.at(int64(c.Workload.Start)+s.dur(c.Workload.Bursts.Every), item{kind: kBurst, node: n.idx})
		}
		if c.Churn != nil {
			s.at(s.dur(c.Churn.MTBF), item{kind: kChurn, node: n.idx, gen: n.gen})
		}
		if o := outagesOf(c); o != nil {
			s.at(s.dur(o.Every), item{kind: kOutage, node: n.idx})
		}
	}
	for i, a := range s.sc.Actions {
		s.at(int64(a.At), item{kind: kAction, arg: int64(i)})
	}
	for i, p := range s.sc.Partitions {
		s.at(int64(p.At), item{kind: kPartition, arg: int64(2 * i)})
		if p.Heal > 0 {
			s.at(int64(p.Heal), item{kind: kPartition, arg: int64(2*i + 1)})
		}
	}
	s.m.init(s)
	s.at(s.m.ref, item{kind: kSample, arg: 1}) // the convergence frontier
	s.at(0, item{kind: kSample})
	s.at(s.end, item{kind: kSettle})
}

func outagesOf(c *classRT) *Outages {
	if c.Offline != nil {
		return c.Offline
	}
	return c.Online
}

// expWait draws an exponential wait in ns for a rate per second.
func (s *sim) expWait(perSec float64) int64 {
	if perSec <= 0 {
		return math.MaxInt64 / 4
	}
	return int64(s.rng.ExpFloat64() / perSec * 1e9)
}

// scheduleAE queues n's next anti-entropy timer: a wait drawn uniformly
// from [Interval/2, 3*Interval/2], stretched by the node's clock drift.
func (s *sim) scheduleAE(n *node) {
	iv := n.cls.interval
	wait := iv/2 + s.rng.Int64N(iv+1)
	s.at(s.now+int64(float64(wait)*n.rate), item{kind: kAE, node: n.idx, gen: n.gen})
}

// antiEntropy fires n's timer: open a session with a random reachable
// peer, as gossip's anti-entropy loop does.
func (s *sim) antiEntropy(it item) {
	n := s.nodes[it.node]
	if it.gen != n.gen || !n.up {
		return
	}
	if n.available() && n.outbound < s.sc.Sync.MaxOutbound {
		if p := s.topo.pick(s, n); p != nil {
			s.startSession(n, p)
		}
	}
	s.scheduleAE(n)
}

// crash takes n down; with erase its data is lost.
func (s *sim) crash(n *node, erase bool) {
	if n.up {
		n.up = false
		n.gen++
		s.topo.update(s, n)
		s.abortAll(n, errCrashed)
		s.m.availability(s, n)
	}
	if erase && !n.erased {
		s.wipeData(n)
	}
}

// restart brings n back up; a wiped node starts empty with a new identity.
func (s *sim) restart(n *node) {
	if n.up {
		return
	}
	n.up = true
	n.gen++
	n.erased = false
	s.topo.update(s, n)
	s.m.availability(s, n)
	s.scheduleAE(n)
}

// wipeData erases n's replica: events only it held are destroyed.
func (s *sim) wipeData(n *node) {
	for _, r := range n.st.Context().Ranges() {
		o := s.led.origins[s.led.byID[r.Origin]]
		for seq := r.From; seq <= r.To; seq++ {
			e := &o.entries[seq-1]
			if e.holders--; e.holders == 0 {
				s.led.gone++
				s.m.destroyed(s, o, seq)
			}
		}
	}
	n.st = s.newStore()
	n.held, n.fp = 0, [2]uint64{}
	n.snap = nil
	n.erased = true
	n.origin = nil
	n.incarnation++
	s.m.wiped(s, n)
}

// setOnline switches n's network on or off.
func (s *sim) setOnline(n *node, on bool) {
	if n.online == on {
		return
	}
	n.online = on
	s.topo.update(s, n)
	if !on {
		s.abortAll(n, errOffline)
	}
	s.m.availability(s, n)
}

// churn handles a node's churn timer: arg 0 crashes, 1 restarts.
func (s *sim) churn(it item) {
	n, ch := s.nodes[it.node], s.nodes[it.node].cls.Churn
	if it.arg == 1 {
		s.restart(n)
		if !s.settle {
			s.at(s.now+s.dur(ch.MTBF), item{kind: kChurn, node: n.idx})
		}
		return
	}
	if s.settle || !n.up {
		return
	}
	s.crash(n, s.rng.Float64() < ch.Wipe)
	s.at(s.now+s.dur(ch.Down), item{kind: kChurn, node: n.idx, arg: 1})
}

// outage handles a node's outage timer: it toggles online; while
// settling, only a return to online happens.
func (s *sim) outage(it item) {
	n := s.nodes[it.node]
	o := outagesOf(n.cls)
	on := !n.online
	if s.settle && !on {
		return
	}
	s.setOnline(n, on)
	next := o.Every
	if n.cls.Offline != nil && !on || n.cls.Online != nil && on {
		next = o.For
	}
	s.at(s.now+s.dur(next), item{kind: kOutage, node: n.idx})
}

// action runs a scheduled action.
func (s *sim) action(a Action) {
	base := 0
	if a.Class != "" {
		for _, c := range s.classes {
			if c.Name == a.Class {
				base = c.first
			}
		}
	}
	for _, k := range a.Nodes {
		n := s.nodes[base+k]
		switch a.Action {
		case "crash":
			s.crash(n, false)
		case "wipe":
			s.crash(n, true)
		case "restart":
			s.restart(n)
		case "offline":
			s.setOnline(n, false)
		case "online":
			s.setOnline(n, true)
		}
	}
}

// partition starts or heals partition i.
func (s *sim) partition(i int, heal bool) {
	if heal {
		s.topo.layout(s, nil)
		return
	}
	s.topo.layout(s, &s.sc.Partitions[i])
}

// startSettle ends the scenario's Duration: the workload stops, no new
// fault starts and every fault is repaired (the network heals, offline
// devices come online, crashed ones restart on their data, wiped ones
// empty); the run goes on until the fleet converges or Settle ends.
func (s *sim) startSettle() {
	s.settle = true
	s.topo.layout(s, nil)
	for _, n := range s.nodes {
		s.restart(n)
		s.setOnline(n, true)
	}
	s.m.startSettle(s)
}

// addHeld records that n now holds e (ingested or applied).
func (s *sim) addHeld(n *node, e *event.Event) {
	n.held++
	h := dotHash(s.led.byID[e.Device], e.Seq)
	n.fp[0] += h[0]
	n.fp[1] += h[1]
}

// dotHash maps a dot to two independent 64-bit values; their sums over a
// replica's dots fingerprint its context.
func dotHash(o int32, seq uint64) [2]uint64 {
	x := uint64(o)<<40 ^ seq
	return [2]uint64{mix64(x ^ 0x6a09e667f3bcc908), mix64(x ^ 0xbb67ae8584caa73b)}
}

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
