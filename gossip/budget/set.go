package budget

import (
	"sync"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

// maxIdlePeers is how many peer buckets a Set keeps before it forgets
// those that have been full for a while.
const maxIdlePeers = 1024

// PeerStats is what a Set accounted for one peer.
type PeerStats struct {
	Rate  int64 // bytes/s of the last reservation
	Burst int64 // bucket size of the last reservation
	// Bytes reserved under a budget, and how many of them had to wait.
	Bytes, ThrottledBytes uint64
	// Waited is the sum of the waits returned.
	Waited time.Duration
	// First is when the first reservation was made; Last is when the
	// last reserved byte may be sent (its time plus its wait).
	First, Last time.Time
}

// Totals sums the accounting over every peer since the Set was made.
type Totals struct {
	Bytes, ThrottledBytes uint64
	Waited                time.Duration
}

// Set is the budgets of many peers, one Bucket each. It is safe for
// concurrent use; several streams to one peer share its bucket.
type Set struct {
	clock  clock.Clock
	mu     sync.Mutex
	peers  map[string]*peerBucket
	totals Totals
}

type peerBucket struct {
	b     Bucket
	stats PeerStats
}

// NewSet returns an empty Set on clock c.
func NewSet(c clock.Clock) *Set { return &Set{clock: c, peers: map[string]*peerBucket{}} }

// Reserve takes n bytes to peer under rate bytes/s (0 is unlimited: no
// wait, no accounting) and returns how long to wait before sending them.
func (s *Set) Reserve(peer string, n int, rate int64) time.Duration {
	if rate <= 0 || n <= 0 {
		return 0
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	pb := s.peers[peer]
	if pb == nil {
		s.prune(now)
		pb = &peerBucket{stats: PeerStats{First: now}}
		s.peers[peer] = pb
	}
	burst := Burst(rate)
	wait := pb.b.Reserve(now, int64(n), rate, burst)
	st := &pb.stats
	st.Rate, st.Burst = rate, burst
	st.Bytes += uint64(n)
	st.Last = now.Add(wait)
	s.totals.Bytes += uint64(n)
	if wait > 0 {
		st.ThrottledBytes += uint64(n)
		st.Waited += wait
		s.totals.ThrottledBytes += uint64(n)
		s.totals.Waited += wait
	}
	return wait
}

// prune forgets peers whose bucket has been full for a minute once there
// are many; s.mu is held.
func (s *Set) prune(now time.Time) {
	if len(s.peers) < maxIdlePeers {
		return
	}
	for p, pb := range s.peers {
		if pb.b.tat.Before(now.Add(-time.Minute)) {
			delete(s.peers, p)
		}
	}
}

// Peer returns the accounting for peer, if it was ever under a budget
// (and not forgotten as idle).
func (s *Set) Peer(peer string) (PeerStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pb, ok := s.peers[peer]
	if !ok {
		return PeerStats{}, false
	}
	return pb.stats, true
}

// Totals returns the accounting summed over every peer.
func (s *Set) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totals
}
