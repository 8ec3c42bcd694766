package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/node"
)

// addSwitchFlags registers the sync switches' flags but --sync-interval
// (bound in newNodeCmd); switchesFromFlags reads them all back.
func addSwitchFlags(f *pflag.FlagSet) {
	d := policy.Defaults()
	f.Bool("push", d.Push, "announce new events to the mesh at once (gossipsub); false leaves them to anti-entropy")
	f.Int("sync-fanout", d.SyncFanout, "peers one anti-entropy round syncs with, 1 to 16")
	f.String("blob-policy", string(d.BlobPolicy), "which nodes fetch referenced blobs as events arrive: eager, on-demand or sinks-only")
	f.Int("sync-batch-bytes", d.SyncBatchBytes, "event bytes per sync frame in new sessions, 1 KiB to 8 MiB")
	f.Int("sync-run-bytes", d.SyncRunBytes, "bytes after which a sender ends a sealed run in new sessions")
	f.Int("push-inline-bytes", d.PushInlineBytes, "event bytes carried inline in one push announcement, 0 to 512 KiB")
	f.Int64("peer-bandwidth", d.PeerBandwidth, "bandwidth budget per peer for sync and blob bytes sent, bytes/s (default 0: unlimited)")
}

// switchesFromFlags reads the sync switches from the flags of rumor node.
func switchesFromFlags(fs *pflag.FlagSet) (policy.Settings, error) {
	var s policy.Settings
	var bp string
	errs := []error{}
	get := func(err error) { errs = append(errs, err) }
	var err error
	s.Push, err = fs.GetBool("push")
	get(err)
	s.SyncInterval, err = fs.GetDuration("sync-interval")
	get(err)
	s.SyncFanout, err = fs.GetInt("sync-fanout")
	get(err)
	bp, err = fs.GetString("blob-policy")
	get(err)
	s.BlobPolicy = policy.BlobPolicy(bp)
	s.SyncBatchBytes, err = fs.GetInt("sync-batch-bytes")
	get(err)
	s.SyncRunBytes, err = fs.GetInt("sync-run-bytes")
	get(err)
	s.PushInlineBytes, err = fs.GetInt("push-inline-bytes")
	get(err)
	s.PeerBandwidth, err = fs.GetInt64("peer-bandwidth")
	get(err)
	return s, errors.Join(errs...)
}

// origins records where each flag of rumor node got its value, and the
// command line, so that a reload resolves everything again the same way.
type origins struct {
	args []string                 // the flags given on the command line
	src  map[string]policy.Source // flag name → source, for flags not at their default
	file string                   // the config file, if any
}

// start records the command line: the flags set so far.
func (o *origins) start(fs *pflag.FlagSet) {
	o.args, o.src = nil, map[string]policy.Source{}
	fs.Visit(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				o.args = append(o.args, "--"+f.Name+"="+v)
			}
		} else {
			o.args = append(o.args, "--"+f.Name+"="+f.Value.String())
		}
	})
	o.mark(fs, policy.SourceFlag)
}

// mark attributes the flags set since the last mark to src.
func (o *origins) mark(fs *pflag.FlagSet, src policy.Source) {
	fs.Visit(func(f *pflag.Flag) {
		if _, ok := o.src[f.Name]; !ok {
			o.src[f.Name] = src
		}
	})
}

// resolved returns the switches of fs with their sources.
func (o *origins) resolved(fs *pflag.FlagSet) (policy.Resolved, error) {
	s, err := switchesFromFlags(fs)
	if err != nil {
		return policy.Resolved{}, err
	}
	r := policy.Resolved{Settings: s, Sources: map[string]policy.Source{}}
	for _, k := range policy.Keys() {
		if src, ok := o.src[policy.FlagName(k)]; ok {
			r.Sources[k] = src
		}
	}
	if err := s.Validate(node.SwitchLimits()); err != nil {
		return r, o.switchError(err, r.Sources)
	}
	return r, nil
}

// switchError names an invalid switch as the user gave it.
func (o *origins) switchError(err error, sources map[string]policy.Source) error {
	var fe *policy.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	name := policy.FlagName(fe.Field())
	switch sources[fe.Field()] {
	case policy.SourceFlag:
		return fmt.Errorf("--%s: %s", name, fe.Msg)
	case policy.SourceEnv:
		return fmt.Errorf("%s: %s", envName(name), fe.Msg)
	case policy.SourceFile:
		return fmt.Errorf("config file %s: %s: %s", o.file, name, fe.Msg)
	}
	return fmt.Errorf("%s: %s", name, fe.Msg)
}

// reload resolves the flags of rumor node again (the same command line
// and environment, the config file as it is now) and returns the switches
// to run with. Keys that differ from running, the flags the node runs
// with, but cannot change while it runs are reported as Ignored, as are
// switches the file sets but a flag or the environment overrides.
func (o *origins) reload(running *pflag.FlagSet) (policy.Reloaded, error) {
	cmd := newNodeCmd()
	if err := cmd.ParseFlags(o.args); err != nil {
		return policy.Reloaded{}, err
	}
	fresh := &origins{}
	if err := configure(cmd, fresh); err != nil {
		return policy.Reloaded{}, err
	}
	r, err := fresh.resolved(cmd.Flags())
	if err != nil {
		return policy.Reloaded{}, err
	}
	out := policy.Reloaded{Resolved: r}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, sw := policy.KeyOfFlag(f.Name); sw || f.Name == "help" || f.Name == "config" {
			return
		}
		if run := running.Lookup(f.Name); run != nil && run.Value.String() != f.Value.String() {
			out.Ignored = append(out.Ignored, policy.Ignored{Key: f.Name, File: f.Value.String(), Running: run.Value.String(),
				Reason: "only a restart applies it; only the sync switches change while running"})
		}
	})
	out.Ignored = append(out.Ignored, fresh.overridden(cmd.Flags())...)
	return out, nil
}

// overridden lists the switches the config file sets that a flag or the
// environment overrides.
func (o *origins) overridden(fs *pflag.FlagSet) []policy.Ignored {
	if o.file == "" {
		return nil
	}
	b, err := os.ReadFile(o.file)
	if err != nil {
		return nil // configure read it a moment ago; a vanished file hides nothing
	}
	entries, err := parseConfig(b)
	if err != nil {
		return nil
	}
	var out []policy.Ignored
	for _, e := range entries {
		src := o.src[e.key]
		if _, sw := policy.KeyOfFlag(e.key); !sw || (src != policy.SourceFlag && src != policy.SourceEnv) {
			continue
		}
		by := "--" + e.key
		if src == policy.SourceEnv {
			by = envName(e.key)
		}
		out = append(out, policy.Ignored{Key: e.key, File: strings.Join(e.values, ","), Running: fs.Lookup(e.key).Value.String(),
			Reason: "overridden by " + by})
	}
	return out
}

// watchHangup reloads n's configuration on every SIGHUP until ctx ends or
// the returned stop is called.
func watchHangup(ctx context.Context, n *node.Node) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				_, _ = n.Reload(node.TriggerSignal) // the node logs the outcome
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		cancel()
		<-done
	}
}

// setSwitches gives cfg the resolved switches and the reload hook.
func (o *origins) setSwitches(cmd *cobra.Command, cfg *node.Config) error {
	r, err := o.resolved(cmd.Flags())
	if err != nil {
		return err
	}
	cfg.Switches = &r
	running := cmd.Flags()
	cfg.Reload = func() (policy.Reloaded, error) { return o.reload(running) }
	return nil
}
