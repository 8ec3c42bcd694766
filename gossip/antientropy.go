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

// maxOutbound caps the sessions this node runs as initiator at once.
const maxOutbound = 4

// peerState is the per-peer backoff and misbehaviour record.
type peerState struct {
	failures int
	until    time.Time // no session opened before this
	strikes  int
	bans     int
}

// antiEntropyLoop opens a session with a random connected member every
// jittered Interval, and at once with kicked peers.
func (r *Replicator) antiEntropyLoop() {
	timer := time.NewTimer(r.jittered())
	defer timer.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case p := <-r.kick:
			r.startSession(p)
		case <-timer.C:
			if p, ok := r.pickPeer(); ok {
				r.startSession(p)
			}
			timer.Reset(r.jittered())
		}
	}
}

// jittered draws a wait uniformly from [Interval/2, 3*Interval/2].
func (r *Replicator) jittered() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	iv := r.cfg.Interval
	return iv/2 + time.Duration(r.rnd.Int64N(int64(iv)+1))
}

// pickPeer chooses a random connected member that is not backed off and
// not already in a session with us.
func (r *Replicator) pickPeer() (peer.ID, bool) {
	now := r.cfg.Clock.Now()
	h := r.mesh.Host()
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
	if len(candidates) == 0 || len(r.running) >= maxOutbound {
		return "", false
	}
	return candidates[r.rnd.IntN(len(candidates))], true
}

// startSession runs a session with p in the background unless one is
// already running or p is backed off.
func (r *Replicator) startSession(p peer.ID) {
	r.mu.Lock()
	if r.running[p] || r.inbound[p] || len(r.running) >= maxOutbound {
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
