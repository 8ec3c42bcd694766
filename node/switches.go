package node

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/budget"
	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/metrics"
)

// syncWindow is how many DELTA frames a sender keeps unacknowledged:
// 12 × (4 MiB run + 1 MiB batch) fits the 64 MiB a receiver buffers.
const syncWindow = 12

// Reload triggers, as ReloadReport.Trigger shows them.
const (
	TriggerSignal = "signal" // SIGHUP
	TriggerAPI    = "api"    // POST /v1/config/reload
)

// SwitchLimits are the fixed sync protocol parameters the switches are
// validated against: the replicator's, with the node's window.
func SwitchLimits() policy.Limits {
	g := gossip.DefaultConfig()
	return policy.Limits{Window: syncWindow, MaxPendingBytes: g.Session.MaxPendingBytes,
		FrameTimeout: time.Duration(g.Session.IdleTicks) * g.Tick}
}

// ReloadReport is the outcome of one reload of the configuration.
type ReloadReport struct {
	Seq     uint64           `json:"seq"`     // 1 for the first reload since start
	At      time.Time        `json:"at"`      // when it ran
	Trigger string           `json:"trigger"` // TriggerSignal or TriggerAPI
	OK      bool             `json:"ok"`      // false: nothing changed, see Error
	Error   string           `json:"error,omitempty"`
	Changed []string         `json:"changed"` // settings whose value changed
	Ignored []policy.Ignored `json:"ignored"` // keys of the file not applied
}

// switches are the node's live sync settings and its reload history.
type switches struct {
	holder *policy.Holder
	reload sync.Mutex // serialises reloads
	mu     sync.Mutex // guards the fields below
	last   *ReloadReport
	ok     uint64
	failed uint64
}

// newSwitches makes the holder of the initial switches.
func newSwitches(cfg *Config) (*switches, error) {
	r := cfg.Switches
	if r == nil {
		s := policy.Defaults()
		src := map[string]policy.Source{}
		if cfg.SyncInterval != s.SyncInterval { // set in Config, as a flag would
			s.SyncInterval, src[policy.KeySyncInterval] = cfg.SyncInterval, policy.SourceFlag
		}
		r = &policy.Resolved{Settings: s, Sources: src}
	}
	h, err := policy.NewHolder(SwitchLimits(), *r, cfg.Clock)
	if err != nil {
		return nil, fmt.Errorf("node: sync switches: %w", err)
	}
	return &switches{holder: h}, nil
}

// Switches returns the holder of the live sync switches.
func (n *Node) Switches() *policy.Holder { return n.sw.holder }

// UpdateSwitches applies a change as PUT /v1/config does: all or
// nothing, the changed keys marked as coming from the API until the next
// reload.
func (n *Node) UpdateSwitches(p policy.Patch) (*policy.State, error) {
	old := n.sw.holder.Load()
	st, err := n.sw.holder.Update(p, policy.SourceAPI)
	if err != nil {
		n.log.Warn("sync switch change rejected", "err", err)
		return st, err
	}
	if st != old {
		n.log.Info("sync switches changed", "source", policy.SourceAPI, "version", st.Version,
			"changes", describeChanges(old.Settings, st))
	}
	return st, nil
}

// Reload re-reads the configuration through Config.Reload (SIGHUP, POST
// /v1/config/reload) and runs with the switches it resolves to, dropping
// earlier API changes. On any error, it logs it, keeps the running
// switches and returns the error with the report. Keys of the file that
// cannot change while running, or that a flag or the environment
// overrides, are logged and listed in the report's Ignored.
func (n *Node) Reload(trigger string) (ReloadReport, error) {
	if n.cfg.Reload == nil {
		return ReloadReport{}, api.ErrNoReload
	}
	n.sw.reload.Lock()
	defer n.sw.reload.Unlock()
	rep := ReloadReport{At: n.cfg.Clock.Now().UTC(), Trigger: trigger, Changed: []string{}, Ignored: []policy.Ignored{}}
	old := n.sw.holder.Load()
	r, err := n.cfg.Reload()
	var st *policy.State
	if err == nil {
		st, err = n.sw.holder.Replace(r.Resolved)
	}
	if err != nil {
		n.log.Error("config reload failed; keeping the running settings", "trigger", trigger, "err", err)
		rep.Error = err.Error()
		return n.sw.record(rep), err
	}
	rep.OK, rep.Changed = true, append(rep.Changed, policy.Diff(old.Settings, st.Settings)...)
	rep.Ignored = append(rep.Ignored, r.Ignored...)
	for _, ig := range r.Ignored {
		n.log.Warn("config file key not applied", "key", ig.Key, "file", ig.File, "running", ig.Running, "reason", ig.Reason)
	}
	n.log.Info("config reloaded", "trigger", trigger, "version", st.Version, "changes", describeChanges(old.Settings, st),
		"ignored", len(r.Ignored))
	return n.sw.record(rep), nil
}

// record keeps rep as the last reload, numbering it.
func (sw *switches) record(rep ReloadReport) ReloadReport {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if rep.OK {
		sw.ok++
	} else {
		sw.failed++
	}
	rep.Seq = sw.ok + sw.failed
	sw.last = &rep
	return rep
}

func (sw *switches) lastReload() *ReloadReport {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.last
}

func (sw *switches) reloads() (ok, failed uint64) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.ok, sw.failed
}

// describeChanges lists st's changed settings as "key: old → new".
func describeChanges(old policy.Settings, st *policy.State) []string {
	out := make([]string, 0, len(st.Changed))
	for _, k := range st.Changed {
		out = append(out, fmt.Sprintf("%s: %v → %v", k, old.Value(k), st.Settings.Value(k)))
	}
	return out
}

// ConfigView is the body of GET /v1/config and the config object of
// GET /v1/status: the settings, their sources and the last reload.
type ConfigView struct {
	policy.View
	LastReload *ReloadReport `json:"last_reload"`
}

// ConfigChange is the body of a successful PUT /v1/config.
type ConfigChange struct {
	ConfigView
	Changed []string `json:"changed"` // settings whose value changed
}

// switchesAPI serves the switches to the API.
type switchesAPI struct{ n *Node }

var _ api.Switches = switchesAPI{}

func (s switchesAPI) view(st *policy.State) ConfigView {
	return ConfigView{View: st.View(), LastReload: s.n.sw.lastReload()}
}

// Current implements api.Switches.
func (s switchesAPI) Current() any { return s.view(s.n.sw.holder.Load()) }

// Update implements api.Switches.
func (s switchesAPI) Update(body []byte) (any, error) {
	old := s.n.sw.holder.Load()
	p, err := policy.DecodePatch(body)
	if err == nil {
		var st *policy.State
		if st, err = s.n.UpdateSwitches(p); err == nil {
			changed := policy.Diff(old.Settings, st.Settings)
			if changed == nil {
				changed = []string{}
			}
			return ConfigChange{ConfigView: s.view(st), Changed: changed}, nil
		}
	}
	ce := &api.ConfigError{Err: err}
	var fe *policy.FieldError
	if errors.As(err, &fe) {
		ce.Field = fe.Field()
	}
	return nil, ce
}

// Reload implements api.Switches.
func (s switchesAPI) Reload() (any, error) {
	rep, err := s.n.Reload(TriggerAPI)
	if err != nil && !errors.Is(err, api.ErrNoReload) {
		ce := &api.ConfigError{Err: err}
		var fe *policy.FieldError
		if errors.As(err, &fe) {
			ce.Field = fe.Field()
		}
		return rep, ce
	}
	return rep, err
}

// watchSwitches registers the switch metrics.
func (n *Node) watchSwitches() error {
	return n.metrics.WatchSwitches(metrics.SwitchSources{
		State: n.sw.holder.Load,
		Budget: func() budget.Totals {
			if r := n.Replicator(); r != nil {
				return r.BudgetTotals()
			}
			return budget.Totals{}
		},
		Counters: func() gossip.Counters {
			if r := n.Replicator(); r != nil {
				return r.Counters()
			}
			return gossip.Counters{}
		},
		Reloads: n.sw.reloads,
	})
}
