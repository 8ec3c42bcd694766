package realstack

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/simulations"
)

func testConfig(t *testing.T, n int) Config {
	cfg := Config{Nodes: n, Dir: t.TempDir()}
	if os.Getenv("RUMOR_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

func startFleet(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	f, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustEmit(t *testing.T, f *Fleet, i, n int) {
	t.Helper()
	if err := f.Emit(i, n); err != nil {
		t.Fatal(err)
	}
}

// TestPartitionFreezeHeal partitions six full nodes into halves, lets both
// sides record, freezes one node (stopped, restarted later on its data:
// a crash-restart), heals, and checks that every node ends with every
// event and that nothing crossed the cut while it lasted.
func TestPartitionFreezeHeal(t *testing.T) {
	f := startFleet(t, testConfig(t, 6))
	mustEmit(t, f, 0, 10)
	if _, err := f.WaitConverged(10, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	reach := make([][]bool, 6)
	for i := range reach {
		reach[i] = make([]bool, 6)
		for j := range reach[i] {
			reach[i][j] = (i < 3) == (j < 3)
		}
	}
	f.Cut(reach)
	mustEmit(t, f, 1, 5)
	mustEmit(t, f, 4, 7)
	if err := f.Crash(5); err != nil { // frozen: down while the others go on
		t.Fatal(err)
	}
	mustEmit(t, f, 3, 2)
	sideConverged := func(lo, hi int, want uint64) bool {
		for i := lo; i < hi; i++ {
			if n := f.Node(i); n != nil && n.Store().Summary().Events != want {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(15 * time.Second)
	for !(sideConverged(0, 3, 15) && sideConverged(3, 6, 19)) {
		if time.Now().After(deadline) {
			t.Fatalf("sides did not converge alone: %+v", f.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if f.Node(0).Store().Holds(crdt.Dot{Origin: f.Node(4).ID(), Seq: 1}) {
		t.Fatal("an event crossed the partition")
	}
	f.Heal()
	if err := f.Restart(5); err != nil {
		t.Fatal(err)
	}
	took, err := f.WaitConverged(24, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("converged %v after the heal and restart: %+v", took.Round(time.Millisecond), f.State())
}

// TestSimulatorAgreesWithRealStack runs the library's partition-and-heal
// scenario, scaled to 8 nodes, through the simulator and then through 8
// full nodes replaying the simulator's workload, partition and heal in
// scaled wall time: both must converge, lose nothing and end with the
// same number of events. RUMOR_SIM_LONG=1 also runs a 50-node version.
func TestSimulatorAgreesWithRealStack(t *testing.T) {
	sizes := []int{8}
	if os.Getenv("RUMOR_SIM_LONG") == "1" {
		sizes = append(sizes, 50)
	}
	for _, n := range sizes {
		base, err := simulations.Open("partition-and-heal")
		if err != nil {
			t.Fatal(err)
		}
		sc := base.Scaled(n)
		res, err := simulations.Run(&sc, simulations.Options{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		if !r.Converged || r.LostEvents != 0 {
			t.Fatalf("simulator: converged %v, lost %d", r.Converged, r.LostEvents)
		}
		// 50 virtual minutes in 10 s of wall time (40 s for 50 nodes, whose
		// sessions need more than 100 ms on two cores); the anti-entropy
		// interval scales with it.
		wall := 10 * time.Second
		if n > 8 {
			wall = 40 * time.Second
		}
		scale := time.Duration(float64(wall) / sc.Duration.D().Seconds()) // per virtual second
		cfg := testConfig(t, n)
		cfg.SyncInterval = time.Duration(sc.Sync.Interval.D().Seconds() * float64(scale))
		f := startFleet(t, cfg)
		out, err := Replay(f, &sc, res.Trace, scale, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Converged || out.Lost != 0 || out.Events != r.Events || out.Held != r.Events {
			t.Fatalf("real stack %+v; simulator: %d events", out, r.Events)
		}
		simAfterHeal := time.Duration(r.ConvergenceSeconds * float64(time.Second))
		t.Logf("%d nodes: both converged with %d events, nothing lost; after the heal: simulator %v virtual (%.1f rounds), real stack %v wall (%.1f rounds of %v)",
			n, r.Events, simAfterHeal, r.ConvergenceRounds, out.Heal.Round(time.Millisecond),
			out.Heal.Seconds()/cfg.SyncInterval.Seconds(), cfg.SyncInterval)
	}
}
