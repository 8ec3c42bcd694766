package simulations

import (
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// Invariants counts the checks a run made. Any failure ends the run with
// an *InvariantError.
type Invariants struct {
	// Ingests are local batches recorded.
	Ingests uint64 `json:"ingests"`
	// VerifiedApplies are applies checked to carry only events and seals
	// their origins made (the sessions verified them; the ledger confirms).
	VerifiedApplies uint64 `json:"verified_applies"`
	// ContextChecks are node contexts compared with their last snapshot
	// (they may only grow, unless the node is wiped) and with the node's
	// event count.
	ContextChecks uint64 `json:"context_checks"`
	// ReplicaVerifies are whole replicas verified at the end (every block
	// ends with a valid seal over a valid chain), for fleets up to 64 nodes.
	ReplicaVerifies uint64 `json:"replica_verifies"`
}

// checkApply checks that an Apply a session emitted at n carries only
// authentic events and seals: what their origins recorded.
func (s *sim) checkApply(n *node, a syncproto.Apply) bool {
	s.m.checks.VerifiedApplies++
	if len(a.Hashes) != len(a.Events) || len(a.Events) == 0 {
		s.fail("node %d: apply of %d events with %d hashes", n.idx, len(a.Events), len(a.Hashes))
		return false
	}
	for i, e := range a.Events {
		if !s.led.genuine(e, a.Hashes[i]) {
			s.fail("node %d: applied an event that its origin did not record: %s/%d", n.idx, e.Device, e.Seq)
			return false
		}
	}
	for _, sl := range a.Seals {
		if sl == nil || !s.led.genuineSeal(sl) {
			s.fail("node %d: applied a seal that its origin did not make", n.idx)
			return false
		}
	}
	return true
}

// checkContexts compares node contexts with their snapshots: all nodes of
// a fleet up to Options.FullChecks, else 64 of them in turn.
func (s *sim) checkContexts() {
	n := len(s.nodes)
	full := n <= s.opt.FullChecks
	k := n
	if !full {
		k = min(64, n)
	}
	for range k {
		nd := s.nodes[s.m.cursor%n]
		s.m.cursor++
		ctx := nd.st.Context()
		s.m.checks.ContextChecks++
		if ctx.Len() != nd.held {
			s.fail("node %d holds %d dots, the driver counted %d", nd.idx, ctx.Len(), nd.held)
			return
		}
		if nd.snap != nil {
			if lost := nd.snap.Missing(ctx); len(lost) > 0 {
				s.fail("node %d's context shrank without a wipe: lost %v", nd.idx, lost[0])
				return
			}
		}
		if full {
			nd.snap = ctx
		}
	}
}

// finish closes the run: the final convergence and loss checks.
func (s *sim) finish() {
	if s.err != nil {
		return
	}
	s.checkContexts()
	if len(s.nodes) <= 64 {
		for _, n := range s.nodes {
			if err := n.st.verify(); err != nil {
				s.fail("node %d: %v", n.idx, err)
				return
			}
			s.m.checks.ReplicaVerifies++
		}
	}
	lost, converged := s.losses()
	s.final = finalState{lost: lost, converged: converged}
	if lost > 0 {
		s.fail("%d acknowledged events are missing on some live node after settling (converged: %v)", lost, converged)
	}
}

type finalState struct {
	lost      uint64
	converged bool
}

// losses counts the acknowledged events (not destroyed by wipes) missing
// from at least one available node, and whether every available node
// holds the same events.
func (s *sim) losses() (uint64, bool) {
	all := s.led.context()
	missing := crdt.NewContext()
	converged := true
	var first *crdt.Context
	for _, n := range s.nodes {
		if !n.available() {
			continue
		}
		ctx := n.st.Context()
		for _, r := range all.Missing(ctx) {
			missing.AddRange(r)
		}
		if first == nil {
			first = ctx
		} else if converged && !first.Equal(ctx) {
			converged = false
		}
	}
	lost := missing.Len()
	return lost, converged && lost == 0
}
