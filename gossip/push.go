package gossip

import (
	"context"
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// startPush joins the mesh's announcement topic.
func (r *Replicator) startPush() error {
	ps, err := pubsub.NewGossipSub(r.ctx, r.mesh.Host(), pubsub.WithMaxMessageSize(MaxAnnounceBytes+4096))
	if err != nil {
		return fmt.Errorf("gossip: start gossipsub: %w", err)
	}
	name := string(r.mesh.Protocol(announceTopic))
	if err := ps.RegisterTopicValidator(name, r.validateAnnounce); err != nil {
		return fmt.Errorf("gossip: register validator: %w", err)
	}
	if r.topic, err = ps.Join(name); err != nil {
		return fmt.Errorf("gossip: join topic: %w", err)
	}
	sub, err := r.topic.Subscribe()
	if err != nil {
		return fmt.Errorf("gossip: subscribe: %w", err)
	}
	r.spawn(func() { r.receiveLoop(sub) })
	return r.startWatermarks(ps)
}

// Committed tells the replicator that events of this node became durable
// (from the store's OnCommit hook), to be announced. It never blocks.
func (r *Replicator) Committed() {
	select {
	case r.announce <- struct{}{}:
	default:
	}
}

// pushLoop announces the local log's head after each local commit,
// coalescing commits that happen while an announcement is sent. With
// push switched off it announces nothing; anti-entropy carries the events.
func (r *Replicator) pushLoop() {
	var announced uint64
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.announce:
		}
		sw := r.settings()
		if !sw.Push {
			continue
		}
		seal, err := r.cfg.Store.Seal(r.cfg.Store.Origin())
		if err != nil || seal.Seq <= announced {
			continue
		}
		a := &Announce{Seal: seal}
		if sw.PushInlineBytes > 0 {
			events, s, err := r.cfg.Store.ReadRun(seal.Origin, announced+1, seal.Seq, sw.PushInlineBytes)
			if err == nil && s != nil && s.Seq == seal.Seq && len(events) > 0 && events[0].Seq == announced+1 && !anyRedacted(events) {
				a.Events = events
			}
		}
		b, err := a.MarshalBinary()
		if err != nil {
			a.Events = nil
			if b, err = a.MarshalBinary(); err != nil {
				continue
			}
		}
		if err := r.topic.Publish(r.ctx, b); err != nil && r.alive() {
			r.log.Debug("announce failed", "err", err)
			continue
		}
		r.announced.Add(1)
		announced = seal.Seq
	}
}

// validateAnnounce is gossipsub's validator: only well-formed, authentic
// announcements are relayed to other peers.
func (r *Replicator) validateAnnounce(_ context.Context, from peer.ID, msg *pubsub.Message) bool {
	if from == r.mesh.ID() {
		return true
	}
	var a Announce
	if err := a.UnmarshalBinary(msg.Data); err != nil {
		r.strike(from, "malformed_announce", err)
		return false
	}
	if _, err := r.verifyAnnounce(&a); err != nil {
		r.strike(from, "forged_announce", err)
		return false
	}
	msg.ValidatorData = &a
	return true
}

// verifyAnnounce checks the seal's signature and the inline events' hash
// chain back from it, and their link to the event this replica holds just
// before them. It returns the events' hashes.
func (r *Replicator) verifyAnnounce(a *Announce) ([]event.Hash, error) {
	if len(a.Events) == 0 {
		return nil, a.Seal.Verify()
	}
	var prev *event.Hash
	first := a.Events[0]
	if first.Seq > 1 {
		if h, ok := r.cfg.Store.Hash(crdt.Dot{Origin: first.Device, Seq: first.Seq - 1}); ok {
			prev = &h
		}
	}
	return syncproto.VerifyRun(prev, a.Events, &a.Seal)
}

// receiveLoop applies announced events and pulls from announcers whose
// head is ahead of ours.
func (r *Replicator) receiveLoop(sub *pubsub.Subscription) {
	defer sub.Cancel()
	for {
		msg, err := sub.Next(r.ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == r.mesh.ID() {
			continue
		}
		a, ok := msg.ValidatorData.(*Announce)
		if !ok {
			continue
		}
		r.onAnnounce(msg.ReceivedFrom, a, len(msg.Data))
	}
}

func (r *Replicator) onAnnounce(from peer.ID, a *Announce, size int) {
	r.health.learn(a.Seal.Origin, a.Seal.Seq)
	// Holds is a lookup in the committed context; a copy of the whole
	// context per announcement would cost O(origins) on every push.
	if r.cfg.Store.Holds(crdt.Dot{Origin: a.Seal.Origin, Seq: a.Seal.Seq}) {
		return // the head is here; any older gap is anti-entropy's business
	}
	if len(a.Events) > 0 && (a.Events[0].Seq == 1 || r.cfg.Store.Holds(crdt.Dot{Origin: a.Seal.Origin, Seq: a.Events[0].Seq - 1})) {
		// The inline events are one sealed run, screened like a session's.
		events := r.screen(from, a.Events)
		if len(events) == 0 {
			return // all refused: a pull would bring the same run
		}
		added, err := r.cfg.Store.Apply(r.ctx, events, []event.Seal{a.Seal})
		if err == nil {
			if len(added) > 0 {
				r.obs.Received(from, len(added))
				r.noteApplied(added, from)
				r.checkRedactions(from, added)
				id := r.pushes.addPush(from, added, size, r.cfg.Clock.Now())
				r.log.Debug("pushed events applied", "session", id, "peer", from, "events", len(added))
			}
			return
		}
		if !errors.Is(err, context.Canceled) {
			r.log.Warn("applying announced events failed", "err", err)
		}
	}
	r.Kick(from) // behind by more than the announcement carries: pull
}
