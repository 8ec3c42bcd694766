package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/simulations"
)

func newSimCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a fleet in virtual time from a scenario file (see `rumor sim list`)",
	}
	cmd.AddCommand(newSimRunCmd(), newSimListCmd())
	return cmd
}

func newSimRunCmd() *cobra.Command {
	var (
		seed    uint64
		nodes   int
		out     string
		replica string
		noFast  bool
	)
	cmd := &cobra.Command{
		Use:   "run FILE|NAME [--seed N] [--nodes N] [--out DIR]",
		Short: "Run a scenario (a YAML file, or a library name) and write DIR/report.json and plots",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := simulations.Open(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = "sim-" + sc.Name
			}
			// A simulation is one goroutine's allocation-heavy work: trade
			// memory for fewer collections, within a 3.5 GiB soft limit.
			debug.SetGCPercent(400)
			debug.SetMemoryLimit(3584 << 20)
			opt := simulations.Options{Seed: seed, Nodes: nodes, Replica: replica, NoFastPath: noFast}
			errOut := cmd.ErrOrStderr()
			bar := newSimBar(errOut)
			opt.Progress = bar.update
			start := time.Now()
			res, err := simulations.Run(sc, opt)
			bar.done()
			if res == nil {
				return err
			}
			wall := time.Since(start)
			if werr := res.Report.Write(out); werr != nil {
				return errors.Join(err, werr)
			}
			w := cmd.OutOrStdout()
			fmt.Fprint(w, res.Report.Summary())
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(w, "  wall %v, heap peak (sys) %.0f MiB, %d GCs; report and plots in %s/\n",
				wall.Round(time.Millisecond), float64(ms.Sys)/(1<<20), ms.NumGC, out)
			if err != nil {
				return fmt.Errorf("%w\nreplay: rumor sim run %s --seed %d%s", err, args[0], res.Report.Seed, nodesFlag(nodes))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 0, "seed of the run's randomness (default: the scenario's)")
	f.IntVar(&nodes, "nodes", 0, "rescale the fleet to about this many nodes (default: the scenario's)")
	f.StringVar(&out, "out", "", "directory for report.json and the SVG plots (default sim-NAME)")
	f.StringVar(&replica, "replica", simulations.ReplicaLedger, "replica kind: ledger (compact, shared events) or mem (syncproto.MemReplica)")
	f.BoolVar(&noFast, "no-fast-path", false, "drive in-sync HELLO exchanges through the state machine too (same results, slower)")
	return cmd
}

func nodesFlag(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" --nodes %d", n)
}

func newSimListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios (run one with `rumor sim run NAME`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lib, err := simulations.Library()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tNODES\tDURATION\tDESCRIPTION")
			for _, e := range lib {
				desc := e.Description
				if i := strings.Index(desc, ". "); i > 0 {
					desc = desc[:i+1]
				}
				fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", e.Name, e.Nodes, e.Duration.D(), desc)
			}
			return tw.Flush()
		},
	}
}

// simBar draws a bar over virtual time on a terminal, and nothing
// otherwise.
type simBar struct {
	w     io.Writer
	on    bool
	start time.Time
	last  int
}

func newSimBar(w io.Writer) *simBar {
	p := &simBar{w: w, start: time.Now(), last: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *simBar) update(now, end time.Duration) {
	if !p.on || end <= 0 {
		return
	}
	pct := int(min(100, 100*now/end))
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 40
	fill := width * pct / 100
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  virtual %v  wall %v ",
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, now.Round(time.Second), time.Since(p.start).Round(time.Second))
}

func (p *simBar) done() {
	if p.on && p.last >= 0 {
		fmt.Fprintln(p.w)
	}
}
