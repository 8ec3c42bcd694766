package gossip

import (
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/gossip/budget"
	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// roundsKept is how many anti-entropy rounds Rounds reports.
const roundsKept = 64

// policyHolder returns c.Policy after checking its limits against the
// session config, or a holder made from the legacy fields.
func (c *Config) policyHolder() (*policy.Holder, error) {
	sc := c.Session
	d := syncproto.DefaultSessionConfig()
	if sc.Window == 0 {
		sc.Window = d.Window
	}
	if sc.MaxPendingBytes == 0 {
		sc.MaxPendingBytes = d.MaxPendingBytes
	}
	if sc.IdleTicks == 0 {
		sc.IdleTicks = d.IdleTicks
	}
	lim := policy.Limits{Window: sc.Window, MaxPendingBytes: sc.MaxPendingBytes, FrameTimeout: time.Duration(sc.IdleTicks) * c.Tick}
	if c.Policy != nil {
		if got := c.Policy.Limits(); got != lim {
			return nil, fmt.Errorf("gossip: Policy limits %+v differ from the session's %+v", got, lim)
		}
		return c.Policy, nil
	}
	s := policy.Defaults()
	s.SyncInterval, s.PushInlineBytes = c.Interval, c.InlineBytes
	if !c.EagerBlobs {
		s.BlobPolicy = policy.OnDemand
	}
	if c.Session.MaxBatchBytes != 0 {
		s.SyncBatchBytes = c.Session.MaxBatchBytes
	}
	if c.Session.RunBytes != 0 {
		s.SyncRunBytes = c.Session.RunBytes
	}
	return policy.NewHolder(lim, policy.Resolved{Settings: s}, c.Clock)
}

// settings returns the current sync switches.
func (r *Replicator) settings() policy.Settings { return r.pol.Settings() }

// Policy returns the holder of the live sync switches.
func (r *Replicator) Policy() *policy.Holder { return r.pol }

// sessionConfig is the session config for a new session: the batch
// sizes of the current switches on the configured rest.
func (r *Replicator) sessionConfig() syncproto.SessionConfig {
	return r.settings().SessionConfig(r.cfg.Session)
}

// maxOutbound caps the sessions this node runs as initiator at once: at
// least one round's fan-out.
func (r *Replicator) maxOutbound() int { return max(minOutbound, r.settings().SyncFanout) }

// Counters are running totals of what the switches govern.
type Counters struct {
	// Announcements is how many push announcements this node published.
	Announcements uint64
	// EagerBlobFetches is how many blobs were queued for a background
	// fetch as their events arrived (the blob policy).
	EagerBlobFetches uint64
	// Rounds is how many timed anti-entropy rounds ran.
	Rounds uint64
}

// Counters returns the running totals.
func (r *Replicator) Counters() Counters {
	return Counters{Announcements: r.announced.Load(), EagerBlobFetches: r.eagerQueued.Load(), Rounds: r.rounds.total()}
}

// Round is one timed anti-entropy round: when it ran and the peers it
// opened sessions with (at most the fan-out; fewer when fewer live
// members were free).
type Round struct {
	At     time.Time
	Fanout int
	Peers  []peer.ID
}

// roundRing keeps the last rounds.
type roundRing struct {
	mu    sync.Mutex
	last  []Round
	count uint64
}

func (rr *roundRing) add(r Round) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.count++
	if len(rr.last) == roundsKept {
		copy(rr.last, rr.last[1:])
		rr.last = rr.last[:roundsKept-1]
	}
	rr.last = append(rr.last, r)
}

func (rr *roundRing) total() uint64 {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.count
}

// Rounds returns the last timed anti-entropy rounds, oldest first.
func (r *Replicator) Rounds() []Round {
	r.rounds.mu.Lock()
	defer r.rounds.mu.Unlock()
	return append([]Round(nil), r.rounds.last...)
}

// PeerBudget returns the bandwidth budget's accounting for the bytes sent
// to p, if any were sent under a budget.
func (r *Replicator) PeerBudget(p peer.ID) (budget.PeerStats, bool) { return r.budget.Peer(p.String()) }

// BudgetTotals returns the budget's accounting over every peer.
func (r *Replicator) BudgetTotals() budget.Totals { return r.budget.Totals() }
