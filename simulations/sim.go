package simulations

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// Options tune one run of a scenario.
type Options struct {
	// Seed replaces the scenario's seed when not 0.
	Seed uint64
	// Nodes rescales the fleet to about this many nodes when not 0 (see
	// Scenario.Scaled).
	Nodes int
	// Replica is ReplicaLedger (default) or ReplicaMem.
	Replica string
	// NoFastPath drives every HELLO exchange through the session state
	// machine. By default an exchange between replicas the simulator knows
	// to be equal is synthesized with the same bytes, timing and outcome.
	NoFastPath bool
	// Progress, when not nil, is called at every sample with the virtual
	// time reached and the scenario's duration.
	Progress func(now, end time.Duration)
	// Trace records every ingest in Result.Trace.
	Trace bool
	// FullChecks is the largest fleet whose every node's context is checked
	// at every sample (that it only grew, and matches the node's count);
	// larger fleets check a rotating subset of 64 nodes. Default 256.
	FullChecks int
}

// Result is the outcome of a run.
type Result struct {
	// Report is what report.json holds.
	Report Report
	// Trace lists every ingest when Options.Trace is set, in time order.
	Trace []Ingest
}

// Ingest is one durable batch a node recorded.
type Ingest struct {
	At     time.Duration // virtual time
	Node   int           // index in the fleet
	Events int
}

// InvariantError is a broken invariant: the run failed, and Seed replays
// it.
type InvariantError struct {
	Scenario string
	Seed     uint64
	At       time.Duration // virtual time of the violation
	Msg      string
}

// Error describes the violation and how to replay it.
func (e *InvariantError) Error() string {
	return fmt.Sprintf("simulations: invariant violated in %s at %v (seed %d; replay with --seed %d): %s",
		e.Scenario, e.At, e.Seed, e.Seed, e.Msg)
}

// ErrInvariant is wrapped by every *InvariantError.
var ErrInvariant = errors.New("simulations: invariant violated")

// Unwrap returns ErrInvariant.
func (e *InvariantError) Unwrap() error { return ErrInvariant }

// sim is one run's whole state. Everything happens on one goroutine, in
// the order of the event queue; all randomness comes from rng.
type sim struct {
	sc      Scenario
	opt     Options
	seed    uint64
	rng     *rand.Rand
	q       queue
	now     int64
	end     int64 // Duration, ns
	limit   int64 // Duration + Settle, ns
	settle  bool  // past Duration: no workload, no new faults
	stopped bool
	led     *ledger
	nodes   []*node
	classes []*classRT
	topo    topology
	cfg     syncproto.SessionConfig
	fast    bool
	m       metrics
	err     error
	sessID  uint64
	trace   []Ingest
	final   finalState
}

// Run runs sc with opt and returns its report. The same scenario, options
// and seed give a byte-identical report. A broken invariant returns an
// error wrapping ErrInvariant (an *InvariantError naming the seed), with
// the report so far.
func Run(sc *Scenario, opt Options) (*Result, error) {
	if sc == nil {
		return nil, errors.New("simulations: nil scenario")
	}
	s, err := newSim(*sc, opt)
	if err != nil {
		return nil, err
	}
	s.loop()
	res := &Result{Report: s.report(), Trace: s.trace}
	return res, s.err
}

func newSim(sc Scenario, opt Options) (*sim, error) {
	if opt.Nodes > 0 {
		sc = sc.Scaled(opt.Nodes)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	sc = sc.withDefaults()
	if opt.Seed != 0 {
		sc.Seed = opt.Seed
	}
	if opt.FullChecks == 0 {
		opt.FullChecks = 256
	}
	switch opt.Replica {
	case "":
		opt.Replica = ReplicaLedger
	case ReplicaLedger, ReplicaMem:
	default:
		return nil, fmt.Errorf("simulations: unknown replica kind %q", opt.Replica)
	}
	s := &sim{
		sc: sc, opt: opt, seed: sc.Seed,
		rng: rand.New(rand.NewPCG(sc.Seed, sc.Seed^0x9e3779b97f4a7c15)),
		end: int64(sc.Duration), led: newLedger(),
		fast: !opt.NoFastPath,
	}
	s.limit = s.end + int64(sc.Settle)
	s.cfg = syncproto.SessionConfig{
		Window: sc.Sync.Window, MaxBatchBytes: int(sc.Sync.MaxBatchBytes), RunBytes: int(sc.Sync.RunBytes),
		IdleTicks: sc.Sync.IdleTicks,
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulations: sync: %w", err)
	}
	s.build()
	s.schedule()
	return s, nil
}

// loop runs queued items until the run ends.
func (s *sim) loop() {
	for s.q.len() > 0 && !s.stopped && s.err == nil {
		it := s.q.pop()
		if it.at > s.limit {
			break
		}
		s.now = it.at
		s.dispatch(it)
	}
	if s.now < s.end {
		s.now = s.end
	}
	s.finish()
}

func (s *sim) dispatch(it item) {
	switch it.kind {
	case kDeliver:
		s.deliver(it.sess, int(it.side), it.msg, false, it.arg == 1)
	case kHello:
		s.deliver(it.sess, int(it.side), nil, true, false)
	case kTick:
		s.tick(it.sess)
	case kPersist:
		s.persist(it)
	case kAE:
		s.antiEntropy(it)
	case kIngest, kBurst:
		s.ingestAt(it)
	case kChurn:
		s.churn(it)
	case kOutage:
		s.outage(it)
	case kAction:
		s.action(s.sc.Actions[it.arg])
	case kPartition:
		s.partition(int(it.arg/2), it.arg%2 == 1)
	case kSample:
		s.sample(it)
	case kSettle:
		s.startSettle()
	}
}

// at queues it at virtual time t.
func (s *sim) at(t int64, it item) {
	it.at = t
	s.q.push(it)
}

// fail records a broken invariant; the run stops.
func (s *sim) fail(format string, args ...any) {
	if s.err == nil {
		s.err = &InvariantError{Scenario: s.sc.Name, Seed: s.seed, At: time.Duration(s.now), Msg: fmt.Sprintf(format, args...)}
	}
}

// dur draws a non-negative duration in ns from d (in seconds).
func (s *sim) dur(d Dist) int64 {
	v := d.Sample(s.rng)
	if v <= 0 || math.IsNaN(v) {
		return 0
	}
	return int64(math.Min(v*1e9, math.MaxInt64/4))
}
