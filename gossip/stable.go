package gossip

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// memberContexts remembers, per peer, the contiguous maxima of the last
// causal context it showed this node in an anti-entropy session (its
// SYNC_REQ, or ours when the digests were equal). It is a lower bound of
// what the peer holds, refreshed by every session; a peer that was wiped
// shows a smaller context, which replaces the old one.
type memberContexts struct {
	mu sync.Mutex
	vv map[peer.ID]map[string]uint64
}

func newMemberContexts() *memberContexts {
	return &memberContexts{vv: map[peer.ID]map[string]uint64{}}
}

func (m *memberContexts) learn(p peer.ID, vv map[string]uint64) {
	m.mu.Lock()
	m.vv[p] = vv
	m.mu.Unlock()
}

func (m *memberContexts) get(p peer.ID) (map[string]uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vv, ok := m.vv[p]
	return vv, ok
}

// StableWatermark returns, per origin, the highest seq that every live
// member of the mesh holds, this node included, as learnt from the last
// anti-entropy session with each: what --prune-when-all-have may prune
// below. It reports false while there is no other live member or some
// member's context is not known yet. Members that are down are not waited
// for: they may miss events that everyone else pruned.
func (r *Replicator) StableWatermark() (map[string]uint64, bool) {
	members := r.mesh.Members()
	if len(members) == 0 {
		return nil, false
	}
	out := r.cfg.Store.Context().VersionVector()
	for _, m := range members {
		vv, ok := r.members.get(m.ID)
		if !ok {
			return nil, false
		}
		for o, seq := range out {
			if v := vv[o]; v < seq {
				out[o] = v
			}
		}
	}
	for o, seq := range out {
		if seq == 0 {
			delete(out, o)
		}
	}
	return out, true
}
