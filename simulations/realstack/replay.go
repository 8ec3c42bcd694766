package realstack

import (
	"fmt"
	"sort"
	"time"

	"github.com/rumor-sync/rumor/simulations"
)

// Outcome is what a replay ended with.
type Outcome struct {
	Converged bool          // every running node holds the same events
	Events    uint64        // events recorded (ingests acknowledged)
	Held      uint64        // events each running node holds at the end
	Lost      uint64        // recorded events missing on some running node
	Heal      time.Duration // wall time from the last heal (or the end of the timeline) to convergence
	Wall      time.Duration // the whole replay
}

// step is one thing that happens during a replay.
type step struct {
	at     time.Duration // virtual
	order  int
	ingest *simulations.Ingest
	part   int  // partition index, with heal
	heal   bool //
	action *simulations.Action
}

// Replay runs sc's timeline on f in wall time, one virtual second taking
// scale of real time: the simulator's recorded ingests (trace, from
// Options.Trace), its partitions (mesh bans both ways) and its actions
// (crash, wipe, restart; offline and online count as crash and restart on
// the data). The fleet must have sc's node count. It then waits up to
// timeout for convergence and reports what the nodes hold.
func Replay(f *Fleet, sc *simulations.Scenario, trace []simulations.Ingest, scale, timeout time.Duration) (Outcome, error) {
	if f.Len() != sc.Nodes() {
		return Outcome{}, fmt.Errorf("realstack: fleet of %d nodes for a scenario of %d", f.Len(), sc.Nodes())
	}
	steps := timeline(sc, trace)
	start := time.Now()
	real := func(v time.Duration) time.Duration { return time.Duration(float64(v) * scale.Seconds()) }
	var out Outcome
	cut := -1
	var last time.Duration
	for _, s := range steps {
		if wait := real(s.at) - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		var err error
		switch {
		case s.ingest != nil:
			if f.Node(s.ingest.Node) != nil {
				err = f.Emit(s.ingest.Node, s.ingest.Events)
				out.Events += uint64(s.ingest.Events)
			}
		case s.action != nil:
			err = act(f, sc, *s.action)
			if cut >= 0 {
				f.Cut(sc.Reachable(cut)) // a node that restarted has no bans yet
			}
		case s.heal:
			f.Heal()
			cut, last = -1, time.Since(start)
		default:
			f.Cut(sc.Reachable(s.part))
			cut = s.part
		}
		if err != nil {
			return out, err
		}
	}
	if last == 0 {
		last = time.Since(start)
	}
	_, err := f.WaitConverged(out.Events, timeout)
	st := f.State()
	out.Converged, out.Held, out.Wall = st.Converged, st.Min, time.Since(start)
	out.Heal = out.Wall - last
	if st.Min < out.Events {
		out.Lost = out.Events - st.Min
	}
	return out, err
}

func timeline(sc *simulations.Scenario, trace []simulations.Ingest) []step {
	var steps []step
	for i := range trace {
		steps = append(steps, step{at: trace[i].At, ingest: &trace[i]})
	}
	for i, p := range sc.Partitions {
		steps = append(steps, step{at: p.At.D(), part: i})
		if p.Heal > 0 {
			steps = append(steps, step{at: p.Heal.D(), part: i, heal: true})
		}
	}
	for i := range sc.Actions {
		steps = append(steps, step{at: sc.Actions[i].At.D(), action: &sc.Actions[i]})
	}
	for i := range steps {
		steps[i].order = i
	}
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].at < steps[b].at })
	return steps
}

// act runs a scenario action on the fleet.
func act(f *Fleet, sc *simulations.Scenario, a simulations.Action) error {
	base := 0
	for _, c := range sc.Classes {
		if c.Name == a.Class {
			break
		}
		if a.Class != "" {
			base += c.Count
		}
	}
	for _, k := range a.Nodes {
		var err error
		switch a.Action {
		case "crash", "offline":
			err = f.Crash(base + k)
		case "wipe":
			err = f.Wipe(base + k)
		case "restart", "online":
			err = f.Restart(base + k)
		}
		if err != nil {
			return fmt.Errorf("realstack: %s node %d: %w", a.Action, base+k, err)
		}
	}
	return nil
}
