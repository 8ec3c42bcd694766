package gossip

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/gossip/mesh"
)

// watermarkTopic carries sinks' archived watermarks (watermark.go).
const watermarkTopic = "watermark/1"

// WatermarkStore persists the watermarks learnt from sinks;
// *store.Store implements it.
type WatermarkStore interface {
	// SaveWatermarks records watermarks of sink that went up.
	SaveWatermarks(sink string, wm map[string]uint64) error
	// Watermarks returns every recorded sink's watermarks.
	Watermarks() (map[string]map[string]uint64, error)
}

// watermarkTable keeps, per sink and origin, the highest archived seq the
// sink announced. Values only go up: a sink's archive does not forget.
type watermarkTable struct {
	mu     sync.Mutex
	bySink map[string]map[string]uint64
}

func newWatermarkTable() *watermarkTable {
	return &watermarkTable{bySink: map[string]map[string]uint64{}}
}

// learn merges wm into sink's watermarks and returns the entries that rose.
func (t *watermarkTable) learn(sink string, wm map[string]uint64) map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.bySink[sink]
	if cur == nil {
		cur = map[string]uint64{}
		t.bySink[sink] = cur
	}
	raised := map[string]uint64{}
	for o, seq := range wm {
		if seq > cur[o] {
			cur[o], raised[o] = seq, seq
		}
	}
	return raised
}

// archived returns, per origin, the highest seq any sink archived.
func (t *watermarkTable) archived() map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]uint64{}
	for _, wm := range t.bySink {
		for o, seq := range wm {
			out[o] = max(out[o], seq)
		}
	}
	return out
}

func (t *watermarkTable) sinks() map[string]map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[string]uint64, len(t.bySink))
	for s, wm := range t.bySink {
		out[s] = maps.Clone(wm)
	}
	return out
}

// Archived returns, per origin, the highest seq some sink has archived
// durably (contiguous from 1): what this node may prune below.
func (r *Replicator) Archived() map[string]uint64 { return r.marks.archived() }

// SinkWatermarks returns every sink's archived watermark, by sink id.
func (r *Replicator) SinkWatermarks() map[string]map[string]uint64 { return r.marks.sinks() }

// loadWatermarks fills the table from the WatermarkStore.
func (r *Replicator) loadWatermarks() error {
	if r.cfg.WatermarkStore == nil {
		return nil
	}
	all, err := r.cfg.WatermarkStore.Watermarks()
	if err != nil {
		return fmt.Errorf("gossip: load watermarks: %w", err)
	}
	for sink, wm := range all {
		r.marks.learn(sink, wm)
	}
	return nil
}

// startWatermarks joins the watermark topic on ps: every node listens,
// a sink (Config.Watermarks set) also publishes.
func (r *Replicator) startWatermarks(ps *pubsub.PubSub) error {
	name := string(r.mesh.Protocol(watermarkTopic))
	if err := ps.RegisterTopicValidator(name, r.validateWatermark); err != nil {
		return fmt.Errorf("gossip: register watermark validator: %w", err)
	}
	topic, err := ps.Join(name)
	if err != nil {
		return fmt.Errorf("gossip: join watermark topic: %w", err)
	}
	sub, err := topic.Subscribe()
	if err != nil {
		return fmt.Errorf("gossip: subscribe to watermarks: %w", err)
	}
	r.wmTopic = topic
	r.spawn(func() { r.watermarkLoop(sub) })
	if r.cfg.Watermarks != nil {
		r.spawn(r.publishWatermarks)
	}
	return nil
}

// validateWatermark relays only well-formed watermarks signed by a member
// that advertises the sink role (gossipsub checks the author's signature
// before this runs).
func (r *Replicator) validateWatermark(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	author := msg.GetFrom()
	if author == r.mesh.ID() {
		return pubsub.ValidationAccept
	}
	wm, err := decodeWatermarks(msg.Data)
	if err != nil {
		r.strike(from, "malformed_watermark", err)
		return pubsub.ValidationReject
	}
	if !r.isSink(author) {
		r.reject(from, "not_a_sink")
		r.log.Debug("ignored a watermark from a member that is not a sink", "author", author, "via", from)
		return pubsub.ValidationIgnore
	}
	msg.ValidatorData = wm
	return pubsub.ValidationAccept
}

// isSink reports whether p is a live member advertising the sink role.
func (r *Replicator) isSink(p peer.ID) bool {
	for _, m := range r.mesh.Members() {
		if m.ID == p {
			return m.Role == mesh.RoleSink
		}
	}
	return false
}

// watermarkLoop learns the watermarks sinks publish and persists the
// entries that rose.
func (r *Replicator) watermarkLoop(sub *pubsub.Subscription) {
	defer sub.Cancel()
	for {
		msg, err := sub.Next(r.ctx)
		if err != nil {
			return
		}
		wm, ok := msg.ValidatorData.(map[string]uint64)
		if !ok || msg.GetFrom() == r.mesh.ID() {
			continue
		}
		sink := msg.GetFrom().String()
		raised := r.marks.learn(sink, wm)
		if len(raised) == 0 || r.cfg.WatermarkStore == nil {
			continue
		}
		if err := r.cfg.WatermarkStore.SaveWatermarks(sink, raised); err != nil {
			r.log.Warn("could not persist a sink's watermark", "sink", sink, "err", err)
		}
	}
}

// publishWatermarks publishes this sink's watermark every
// WatermarkInterval, whole, so that members that joined late learn it.
func (r *Replicator) publishWatermarks() {
	t := time.NewTicker(r.cfg.WatermarkInterval)
	defer t.Stop()
	for {
		wm := r.cfg.Watermarks()
		r.marks.learn(r.mesh.ID().String(), wm)
		for _, page := range encodeWatermarks(wm) {
			if err := r.wmTopic.Publish(r.ctx, page); err != nil && r.alive() {
				r.log.Debug("publishing the watermark failed", "err", err)
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
	}
}
