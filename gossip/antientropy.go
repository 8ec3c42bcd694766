package gossip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// minOutbound is the fewest sessions this node may run as initiator at
// once, whatever the fan-out; see Replicator.maxOutbound.
const minOutbound = 4

// peerState is the per-peer backoff and misbehaviour record.
type peerState struct {
	failures int
	until    time.Time // no session opened before this
	strikes  int
	bans     int
}

// antiEntropyLoop runs a round (sessions with SyncFanout random connected
// members) every jittered SyncInterval, and a session at once with kicked
// peers. A change of the interval takes effect at once.
func (r *Replicator) antiEntropyLoop() {
	st := r.pol.Load()
	timer := time.NewTimer(r.jittered(st.Settings.SyncInterval))
	defer timer.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case p := <-r.kick:
			r.startSession(p)
		case <-st.Superseded():
			next := r.pol.Load()
			if next.Settings.SyncInterval != st.Settings.SyncInterval {
				timer.Reset(r.jittered(next.Settings.SyncInterval))
			}
			st = next
		case <-timer.C:
			r.round()
			timer.Reset(r.jittered(r.settings().SyncInterval))
		}
	}
}

// round opens sessions with up to SyncFanout peers and records it.
func (r *Replicator) round() {
	fanout := r.settings().SyncFanout
	peers := r.pickPeers(fanout)
	for _, p := range peers {
		r.startSession(p)
	}
	r.rounds.add(Round{At: r.cfg.Clock.Now(), Fanout: fanout, Peers: peers})
}

// jittered draws a wait uniformly from [iv/2, 3*iv/2].
func (r *Replicator) jittered(iv time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return iv/2 + time.Duration(r.rnd.Int64N(int64(iv)+1))
}

// pickPeers chooses up to k distinct random connected members that are
// not backed off and not already in a session with us, within the cap on
// outbound sessions.
func (r *Replicator) pickPeers(k int) []peer.ID {
	now := r.cfg.Clock.Now()
	h := r.mesh.Host()
	limit := r.maxOutbound()
	var candidates []peer.ID
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.mesh.Members() {
		if h.Network().Connectedness(m.ID) != network.Connected || r.running[m.ID] || r.inbound[m.ID] {
			continue
		}
		if st := r.peers[m.ID]; st != nil && now.Before(st.until) {
			continue
		}
		candidates = append(candidates, m.ID)
	}
	k = min(k, len(candidates), max(limit-len(r.running), 0))
	for i := range k { // a partial Fisher-Yates shuffle
		j := i + r.rnd.IntN(len(candidates)-i)
		candidates[i], candidates[j] = candidates[j], candidates[i]
	}
	return candidates[:k]
}

// startSession runs a session with p in the background unless one is
// already running or p is backed off.
func (r *Replicator) startSession(p peer.ID) {
	r.mu.Lock()
	if r.running[p] || r.inbound[p] || len(r.running) >= r.maxOutbound() {
		r.mu.Unlock()
		return
	}
	if st := r.peers[p]; st != nil && r.cfg.Clock.Now().Before(st.until) {
		r.mu.Unlock()
		return
	}
	r.running[p] = true
	r.mu.Unlock()
	r.spawn(func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, p)
			r.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(r.ctx, sessionTimeout)
		defer cancel()
		// A session that ran has already updated p's record; a failed dial has not.
		if rec, err := r.SyncWith(ctx, p); err != nil && rec.ID == "" && r.alive() {
			r.afterSession(p, SessionRecord{Peer: p.String(), Outcome: "failed", Error: err.Error()})
		}
	})
}

// afterSession updates p's backoff and strikes from a session's outcome.
func (r *Replicator) afterSession(p peer.ID, rec SessionRecord) {
	r.mu.Lock()
	st := r.peers[p]
	if st == nil {
		st = &peerState{}
		r.peers[p] = st
	}
	now := r.cfg.Clock.Now()
	if rec.Outcome == "ok" {
		st.failures, st.until = 0, time.Time{}
		r.mu.Unlock()
		return
	}
	st.failures++
	back := r.cfg.BackoffMin << min(st.failures-1, 20)
	if back > r.cfg.BackoffMax || back <= 0 {
		back = r.cfg.BackoffMax
	}
	back = back/2 + time.Duration(r.rnd.Int64N(int64(back/2)+1))
	st.until = now.Add(back)
	ban := false
	if rec.Outcome == "protocol_error" {
		st.strikes++
		if st.strikes >= r.cfg.MaxStrikes {
			st.strikes = 0
			st.bans++
			ban = true
		}
	}
	bans := st.bans
	r.mu.Unlock()
	if rec.Outcome == "protocol_error" {
		r.reject(p, "protocol")
	}
	if ban {
		d := r.cfg.BanDuration << min(bans-1, 6)
		r.log.Warn("banning peer that keeps breaking the protocol", "peer", p, "for", d, "last_error", rec.Error)
		r.mesh.Ban(p, d)
	}
}

// strike records one piece of invalid data from p outside a session.
func (r *Replicator) strike(p peer.ID, reason string, err error) {
	r.reject(p, reason)
	r.log.Warn("rejected data from peer", "peer", p, "reason", reason, "err", err)
	r.afterSession(p, SessionRecord{Peer: p.String(), Outcome: "protocol_error", Error: err.Error()})
}

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func slogLevel(err error) slog.Level {
	switch {
	case err == nil:
		return slog.LevelDebug
	case errors.Is(err, syncproto.ErrProtocol):
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// reject counts one rejection of p's data and tells the observer.
func (r *Replicator) reject(p peer.ID, reason string) {
	r.mu.Lock()
	byReason := r.rejections[p]
	if byReason == nil {
		byReason = map[string]uint64{}
		r.rejections[p] = byReason
	}
	byReason[reason]++
	r.mu.Unlock()
	r.obs.Rejected(p, reason)
}

// Rejections returns, per peer and reason, how much data was rejected.
func (r *Replicator) Rejections() map[peer.ID]map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[peer.ID]map[string]uint64, len(r.rejections))
	for p, m := range r.rejections {
		out[p] = maps.Clone(m)
	}
	return out
}
