package simulations

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// TestRandomScenarios runs a few hundred small randomized scenarios: each
// must keep every invariant, converge and lose nothing. Replay one with
// -seed N (or RUMOR_SEED=N); RUMOR_SIM_SEEDS sets how many run.
func TestRandomScenarios(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	if v, err := strconv.Atoi(os.Getenv("RUMOR_SIM_SEEDS")); err == nil {
		n = v
	}
	base := testSeed(t, 1)
	start := time.Now()
	var events, sessions uint64
	for i := range uint64(n) {
		seed := base + i
		sc := randomScenario(seed)
		res, err := Run(sc, Options{})
		if err != nil {
			t.Fatalf("seed %d (replay: go test ./simulations -run '^TestRandomScenarios$' -seed %d -count 1, with RUMOR_SIM_SEEDS=1): %v", seed, seed, err)
		}
		r := res.Report
		if !r.Converged || r.LostEvents != 0 {
			t.Fatalf("seed %d: converged %v, lost %d", seed, r.Converged, r.LostEvents)
		}
		events += r.Events
		sessions += r.Sessions.Started
	}
	t.Logf("%d scenarios from seed %d: %d events, %d sessions, all converged, nothing lost (%v)", n, base, events, sessions, time.Since(start).Round(time.Millisecond))
}

// TestSameSeedSameReport checks determinism: two runs of a scenario with
// the same seed write byte-identical reports, and another seed does not.
func TestSameSeedSameReport(t *testing.T) {
	sc, err := Open("wiped-device")
	if err != nil {
		t.Fatal(err)
	}
	a, b := runJSON(t, sc, Options{}), runJSON(t, sc, Options{})
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same seed wrote different reports")
	}
	if c := runJSON(t, sc, Options{Seed: 99}); bytes.Equal(a, c) {
		t.Fatal("another seed wrote the same report")
	}
}

// TestKindsAndFastPathAgree runs scenarios with syncproto.MemReplica
// instead of the ledger replica, and without the in-sync fast path: the
// reports must be byte-identical (but for the replica's name), as the
// three drive the same session code on the same data.
func TestKindsAndFastPathAgree(t *testing.T) {
	scs := []*Scenario{randomScenario(testSeed(t, 5)), randomScenario(testSeed(t, 5) + 1)}
	if sc, err := Open("wiped-device"); err == nil {
		scs = append(scs, sc)
	}
	for _, sc := range scs {
		ref := runJSON(t, sc, Options{})
		mem := bytes.Replace(runJSON(t, sc, Options{Replica: ReplicaMem}), []byte(`"replica": "mem"`), []byte(`"replica": "ledger"`), 1)
		slow := runJSON(t, sc, Options{NoFastPath: true})
		if !bytes.Equal(ref, mem) {
			t.Errorf("%s: mem replicas and ledger replicas differ", sc.Name)
		}
		if !bytes.Equal(ref, slow) {
			t.Errorf("%s: the fast path changed the report", sc.Name)
		}
	}
}

func runJSON(t *testing.T, sc *Scenario, opt Options) []byte {
	t.Helper()
	res, err := Run(sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.Report.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForgedApplyFails feeds the invariant check an event its origin never
// recorded: the run must fail with an InvariantError naming the seed.
func TestForgedApplyFails(t *testing.T) {
	s, err := newSim(*randomScenario(3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := s.nodes[0]
	s.record(n, 2)
	ent := n.origin.entries[0]
	forged := *ent.ev
	forged.Payload = []byte(`{"forged":true}`)
	a := syncproto.Apply{Events: []*event.Event{&forged}, Hashes: []event.Hash{forged.Hash()}, Seals: []*event.Seal{ent.seal}}
	if s.checkApply(s.nodes[1], a) {
		t.Fatal("a forged event passed")
	}
	var ie *InvariantError
	if !errors.As(s.err, &ie) || ie.Seed != 3 || !errors.Is(s.err, ErrInvariant) {
		t.Fatalf("error %v", s.err)
	}
	t.Log(s.err)
}

// TestShrinkingContextFails checks that a context that loses a dot
// without a wipe breaks the run.
func TestShrinkingContextFails(t *testing.T) {
	s, err := newSim(*randomScenario(4), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := s.nodes[0]
	s.record(n, 3)
	s.checkContexts()
	ls := n.st.(*ledgerStore)
	ls.ctx = crdt.NewContext()
	ls.ctx.AddRange(crdt.Range{Origin: n.origin.id, From: 1, To: 2})
	ls.ctx.AddRange(crdt.Range{Origin: n.origin.id, From: 9, To: 9}) // same count, a dot swapped
	s.checkContexts()
	if !errors.Is(s.err, ErrInvariant) {
		t.Fatalf("error %v", s.err)
	}
}

// TestLibrary runs every library scenario, at full size with
// RUMOR_SIM_LONG=1, else the small ones scaled down.
func TestLibrary(t *testing.T) {
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	if len(lib) < 6 {
		t.Fatalf("library has %d scenarios", len(lib))
	}
	for _, e := range lib {
		t.Run(e.Name, func(t *testing.T) {
			sc, err := Open(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{}
			if !long() {
				if e.Nodes > 1000 || e.Duration.D() > 2*time.Hour {
					t.Skip("large: RUMOR_SIM_LONG=1 runs it")
				}
				opt.Nodes = min(e.Nodes, 12)
			}
			start := time.Now()
			res, err := Run(sc, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Report.Converged || res.Report.LostEvents != 0 {
				t.Fatalf("converged %v, lost %d", res.Report.Converged, res.Report.LostEvents)
			}
			t.Logf("%v wall\n%s", time.Since(start).Round(time.Millisecond), res.Report.Summary())
		})
	}
}

// TestConvergenceBound checks the gossip bound: after the heal, the
// partition-and-heal fleet converges within 1.5 × (log2 N + ln N)
// anti-entropy rounds; at 1,000 nodes with RUMOR_SIM_LONG=1 (about two
// minutes), else at 200.
func TestConvergenceBound(t *testing.T) {
	n := 200
	if long() {
		n = 1000
	}
	sc, err := Open("partition-and-heal")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, Options{Nodes: n, Seed: testSeed(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if r.ConvergenceRounds < 0 || r.ConvergenceRounds > 1.5*r.GossipBoundRounds {
		t.Fatalf("%d nodes converged in %.1f rounds, bound 1.5 × %.1f", n, r.ConvergenceRounds, r.GossipBoundRounds)
	}
	t.Logf("%d nodes: converged %.1f rounds after the heal; 1.5 × (log2 N + ln N) = %.1f", n, r.ConvergenceRounds, 1.5*r.GossipBoundRounds)
}
