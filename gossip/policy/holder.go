package policy

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

// Source says where a setting's current value came from.
type Source string

// Sources, from the weakest to the strongest at start: a flag beats the
// environment, which beats the config file, which beats the default. A
// change through the API beats them all until the next reload.
const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
	SourceAPI     Source = "api"
)

// Resolved is a full set of settings and where each came from.
type Resolved struct {
	Settings Settings
	// Sources maps a setting's key to its source; a key not in it is
	// SourceDefault.
	Sources map[string]Source
}

// Ignored is a key of a reloaded config file whose value was not applied.
type Ignored struct {
	Key     string `json:"key"`     // the file's key (a flag name)
	File    string `json:"file"`    // the value the file gives
	Running string `json:"running"` // the value the node runs with
	Reason  string `json:"reason"`  // why it was not applied
}

// Reloaded is the outcome of re-reading the config file: the settings to
// run with and the file's keys that were not applied.
type Reloaded struct {
	Resolved
	Ignored []Ignored
}

// State is one immutable set of current settings. A newer State replaces
// it on every change.
type State struct {
	Settings Settings
	Sources  map[string]Source // every key; do not modify
	Version  uint64            // 1 at start, one more per change
	Updated  time.Time         // when this state was made
	Changed  []string          // keys whose value the change that made this state changed

	superseded chan struct{}
}

// Superseded returns a channel closed once a newer state replaces s.
func (s *State) Superseded() <-chan struct{} { return s.superseded }

// Holder holds the current settings. Readers call Settings or Load
// without locking; writers (Update, Replace) are serialised and swap in a
// whole new State, so a reader never sees half of a change.
type Holder struct {
	limits Limits
	clock  clock.Clock
	mu     sync.Mutex // serialises writers
	cur    atomic.Pointer[State]
}

// NewHolder validates the initial settings against limits and returns a
// holder of them.
func NewHolder(limits Limits, initial Resolved, c clock.Clock) (*Holder, error) {
	if err := limits.validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("policy: a clock is required")
	}
	if err := initial.Settings.Validate(limits); err != nil {
		return nil, err
	}
	h := &Holder{limits: limits, clock: c}
	h.cur.Store(&State{Settings: initial.Settings, Sources: fullSources(initial.Sources), Version: 1,
		Updated: c.Now(), superseded: make(chan struct{})})
	return h, nil
}

// fullSources returns src with every key, SourceDefault where missing.
func fullSources(src map[string]Source) map[string]Source {
	out := make(map[string]Source, len(Keys()))
	for _, k := range Keys() {
		out[k] = SourceDefault
		if s, ok := src[k]; ok && s != "" {
			out[k] = s
		}
	}
	return out
}

// Limits returns the limits the settings are validated against.
func (h *Holder) Limits() Limits { return h.limits }

// Load returns the current state.
func (h *Holder) Load() *State { return h.cur.Load() }

// Settings returns the current settings.
func (h *Holder) Settings() Settings { return h.cur.Load().Settings }

// Update applies p to the current settings, marking its keys as coming
// from src, all or nothing: if the result is invalid it returns the error
// (a *FieldError) and nothing changes. An empty patch changes nothing.
func (h *Holder) Update(p Patch, src Source) (*State, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.cur.Load()
	next := p.Apply(old.Settings)
	if err := next.Validate(h.limits); err != nil {
		return old, err
	}
	sources := maps.Clone(old.Sources)
	for _, k := range p.Keys() {
		sources[k] = src
	}
	return h.swap(old, next, sources), nil
}

// Replace sets every setting from r (a reload of the config file), all or
// nothing; earlier API changes are dropped.
func (h *Holder) Replace(r Resolved) (*State, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.cur.Load()
	if err := r.Settings.Validate(h.limits); err != nil {
		return old, err
	}
	return h.swap(old, r.Settings, fullSources(r.Sources)), nil
}

// swap installs a new state unless nothing differs; h.mu is held.
func (h *Holder) swap(old *State, next Settings, sources map[string]Source) *State {
	changed := Diff(old.Settings, next)
	if len(changed) == 0 && maps.Equal(sources, old.Sources) {
		return old
	}
	st := &State{Settings: next, Sources: sources, Version: old.Version + 1, Updated: h.clock.Now(),
		Changed: changed, superseded: make(chan struct{})}
	h.cur.Store(st)
	close(old.superseded)
	return st
}

// View is the JSON form of a state: GET /v1/config and the config object
// of GET /v1/status. Values is itself a valid PUT /v1/config body.
type View struct {
	Values  Settings          `json:"values"`
	Sources map[string]Source `json:"sources"`
	Version uint64            `json:"version"`
	Updated time.Time         `json:"updated"`
}

// View returns s's JSON form.
func (s *State) View() View {
	return View{Values: s.Settings, Sources: maps.Clone(s.Sources), Version: s.Version, Updated: s.Updated.UTC()}
}
