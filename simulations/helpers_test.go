package simulations

import (
	"flag"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (default: each test's own, or $RUMOR_SEED)")

// testSeed returns the seed of a randomized test: -seed, else $RUMOR_SEED,
// else def; it logs it so that a failure can be replayed.
func testSeed(t testing.TB, def uint64) uint64 {
	t.Helper()
	seed := def
	if s := os.Getenv("RUMOR_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RUMOR_SEED: %v", err)
		}
		seed = v
	}
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	return seed
}

// long reports whether the long simulations run (RUMOR_SIM_LONG=1).
func long() bool { return os.Getenv("RUMOR_SIM_LONG") == "1" }

func dist(kind string, a, b float64) Dist { return Dist{Kind: kind, A: a, B: b, parsed: true} }

// distT is a duration distribution (seconds).
func distT(kind string, a, b float64) Dist {
	return Dist{Kind: kind, A: a, B: b, parsed: true, unit: unitTime}
}

// randomScenario builds a small scenario from seed: 2 to 8 nodes, a few
// minutes of workload, and, at random, partitions, churn with wipes,
// outages, lossy links and frame-mode faults. Every such scenario must
// converge with nothing lost.
func randomScenario(seed uint64) *Scenario {
	r := rand.New(rand.NewPCG(seed, 77))
	d := time.Duration(5+r.IntN(10)) * time.Minute
	sc := &Scenario{
		Name: "random-" + strconv.FormatUint(seed, 10), Seed: seed, Duration: Duration(d),
		Settle: Duration(40 * time.Minute),
		Sync:   SyncConfig{Interval: Duration(time.Duration(5+r.IntN(25)) * time.Second), Window: 1 + r.IntN(4)},
	}
	if r.IntN(2) == 0 {
		sc.Sync.MaxBatchBytes, sc.Sync.RunBytes = Size(1<<10+r.IntN(8<<10)), Size(2<<10+r.IntN(16<<10))
	}
	emit := 1.0
	c := Class{
		Name: "device", Count: 2 + r.IntN(7),
		Link: Link{Latency: distT("lognormal", 0.002+0.1*r.Float64(), 0.2+r.Float64()), Loss: 0.05 * r.Float64()},
		Workload: Workload{
			Emitters: &emit, Rate: Rate((10 + 50*r.Float64()) / 3600), Batch: dist("uniform", 1, float64(1+r.IntN(12))),
			Payload: dist("uniform", 16, float64(32+r.IntN(2000))), Stop: Duration(d * 7 / 10),
		},
	}
	if r.IntN(3) == 0 {
		c.Link.Bandwidth = Bandwidth(64e3 + 1e7*r.Float64())
	}
	if r.IntN(3) == 0 {
		// Frame-mode faults reach the state machine: a sealed run crosses
		// only if all its frames do, so harsher rates than these can stall
		// large runs for longer than the settle time.
		c.Link.Mode = "frame"
		c.Link.Loss = 0.01 * r.Float64()
		c.Link.Duplicate, c.Link.Reorder, c.Link.Corrupt = 0.005*r.Float64(), 0.005*r.Float64(), 0.002*r.Float64()
	}
	if r.IntN(3) == 0 {
		c.Churn = &Churn{MTBF: distT("exponential", float64(60*(3+r.IntN(15))), 0), Down: distT("uniform", 5, 180), Wipe: 0.3 * r.Float64()}
	}
	if r.IntN(3) == 0 {
		c.Offline = &Outages{Every: distT("exponential", 300, 0), For: distT("uniform", 10, 240)}
	}
	if r.IntN(4) == 0 {
		c.Workload.Blobs = &Blobs{P: 0.3, Count: 1 + r.IntN(3), Size: 4096}
	}
	sc.Classes = []Class{c}
	if r.IntN(2) == 0 {
		shapes := []string{"halves", "islands", "bridge", "ring"}
		sc.Partitions = []Partition{{At: Duration(d / 5), Heal: Duration(d / 2), Shape: shapes[r.IntN(4)], Islands: 2 + r.IntN(3)}}
	}
	if r.IntN(4) == 0 {
		sc.Actions = []Action{
			{At: Duration(d / 3), Action: "wipe", Nodes: []int{0}},
			{At: Duration(d/3 + time.Minute), Action: "restart", Nodes: []int{0}},
		}
	}
	return sc
}
