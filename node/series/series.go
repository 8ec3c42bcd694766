// Package series keeps short time series of a node's activity (events
// ingested locally, events received from peers, sync session bytes) so
// that the dashboard can draw the last minutes the moment it is opened.
//
// A Sampler is a ring of fixed-width buckets indexed by time slot. It has
// no goroutine: every call first rolls the ring forward to the current
// slot of its clock, zeroing the buckets it skips, so with a manual clock
// it is fully deterministic.
package series

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

// Config configures a Sampler.
type Config struct {
	// Step is the width of one bucket. Default 5 s.
	Step time.Duration
	// Len is the number of buckets kept; the series covers Len × Step.
	// Default 120 (10 minutes at 5 s).
	Len int
	// Clock gives the time. Default the wall clock.
	Clock clock.Clock
}

// DefaultConfig returns the defaults documented on each Config field.
func DefaultConfig() Config {
	return Config{Step: 5 * time.Second, Len: 120, Clock: clock.Real{}}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Step < time.Millisecond:
		return errors.New("series: Step must be at least 1 ms")
	case c.Len < 2 || c.Len > 100_000:
		return errors.New("series: Len must be within [2, 100000]")
	case c.Clock == nil:
		return errors.New("series: Clock is required")
	}
	return nil
}

// Sample is the activity of one bucket.
type Sample struct {
	// Start is the bucket's start, epoch milliseconds.
	Start int64 `json:"t"`
	// Ingested counts events recorded by this node.
	Ingested uint64 `json:"ingested"`
	// Received counts new events that arrived from peers.
	Received uint64 `json:"received"`
	// Sessions counts finished anti-entropy sessions.
	Sessions uint64 `json:"sessions"`
	// BytesIn and BytesOut are the sync bytes of those sessions (deltas).
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// MaxDelta is the largest session (bytes in + out) of the bucket.
	MaxDelta uint64 `json:"max_delta"`
}

// Snapshot is the series as GET /v1/series returns it.
type Snapshot struct {
	// StepSeconds is the bucket width in seconds.
	StepSeconds float64 `json:"step_seconds"`
	// Len is the most buckets the series keeps.
	Len int `json:"len"`
	// Now is the time of the snapshot, epoch milliseconds.
	Now int64 `json:"now"`
	// Samples are oldest first, one per bucket since the sampler started
	// (at most Len); the last one is the current, still-filling bucket.
	Samples []Sample `json:"samples"`
}

// Sampler records activity into the ring. It is safe for concurrent use;
// every method holds its lock only for a few additions.
type Sampler struct {
	cfg   Config
	mu    sync.Mutex
	ring  []Sample
	first int64 // slot of the sampler's first bucket
	head  int64 // slot of the newest bucket
}

// New returns a sampler whose series starts now.
func New(cfg Config) (*Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sampler{cfg: cfg, ring: make([]Sample, cfg.Len)}
	s.first = s.slot(cfg.Clock.Now())
	s.head = s.first
	s.ring[s.index(s.head)].Start = s.startOf(s.head)
	return s, nil
}

// Ingested records n events recorded locally.
func (s *Sampler) Ingested(n int) {
	s.add(func(b *Sample) { b.Ingested += uint64(n) })
}

// Received records n new events received from peers.
func (s *Sampler) Received(n int) {
	s.add(func(b *Sample) { b.Received += uint64(n) })
}

// Session records one finished sync session and its bytes each way.
func (s *Sampler) Session(bytesIn, bytesOut uint64) {
	s.add(func(b *Sample) {
		b.Sessions++
		b.BytesIn += bytesIn
		b.BytesOut += bytesOut
		b.MaxDelta = max(b.MaxDelta, bytesIn+bytesOut)
	})
}

// Snapshot returns the series up to now.
func (s *Sampler) Snapshot() Snapshot {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roll(s.slot(now))
	from := max(s.first, s.head-int64(s.cfg.Len)+1)
	out := Snapshot{
		StepSeconds: s.cfg.Step.Seconds(), Len: s.cfg.Len, Now: now.UnixMilli(),
		Samples: make([]Sample, 0, s.head-from+1),
	}
	for sl := from; sl <= s.head; sl++ {
		out.Samples = append(out.Samples, s.ring[s.index(sl)])
	}
	return out
}

// ServeHTTP answers GET /v1/series with the snapshot as JSON.
func (s *Sampler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s.Snapshot())
}

// add rolls the ring to now and applies f to the current bucket.
func (s *Sampler) add(f func(*Sample)) {
	now := s.slot(s.cfg.Clock.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roll(now)
	f(&s.ring[s.index(s.head)])
}

// roll advances the head to slot, clearing the buckets it passes. A clock
// that steps back leaves the head where it is: late activity lands in the
// newest bucket. s.mu is held.
func (s *Sampler) roll(slot int64) {
	if slot <= s.head {
		return
	}
	from := max(s.head+1, slot-int64(s.cfg.Len)+1)
	for sl := from; sl <= slot; sl++ {
		s.ring[s.index(sl)] = Sample{Start: s.startOf(sl)}
	}
	s.head = slot
}

func (s *Sampler) slot(t time.Time) int64 { return t.UnixNano() / int64(s.cfg.Step) }

func (s *Sampler) startOf(slot int64) int64 {
	return time.Unix(0, slot*int64(s.cfg.Step)).UnixMilli()
}

func (s *Sampler) index(slot int64) int {
	i := slot % int64(len(s.ring))
	if i < 0 {
		i += int64(len(s.ring))
	}
	return int(i)
}
