package gossip

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

const snapshotProtocolName = "snapshot/1"

// snapFrameTimeout bounds the wait for one snapshot frame either way.
const snapFrameTimeout = time.Minute

// SnapshotSource is what serving snapshots needs of the store; the node
// adapts *store.Store to it.
type SnapshotSource interface {
	// ExportSnapshot calls header once with a consistent snapshot for a
	// joiner that keeps events from cutoffMs on, then run with the held
	// events above its floors, in (origin, seq) order, in chunks of at most
	// maxBytes, sealed at the end of each run.
	ExportSnapshot(cutoffMs int64, maxBytes int, header func(*Snapshot) error,
		run func(events []*event.Event, seal *event.Seal) error) error
}

// handleSnapshot serves one snapshot request, one at a time.
func (r *Replicator) handleSnapshot(s network.Stream) {
	defer s.Close()
	if !r.enter() {
		s.Reset()
		return
	}
	defer r.wg.Done()
	defer context.AfterFunc(r.ctx, func() { s.Reset() })() // Close does not wait out a slow peer
	select {
	case r.snapSem <- struct{}{}:
		defer func() { <-r.snapSem }()
	default:
		_ = writeSnapFrame(s, snapError, []byte("busy serving another snapshot"))
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(snapFrameTimeout))
	req := make([]byte, snapRequestLen)
	if _, err := io.ReadFull(s, req); err != nil {
		s.Reset()
		return
	}
	cutoff, err := decodeSnapRequest(req)
	if err != nil {
		r.strike(s.Conn().RemotePeer(), "bad_snapshot_request", err)
		s.Reset()
		return
	}
	w := bufio.NewWriterSize(s, 256<<10)
	out := &snapWriter{w: w, deadline: func() { _ = s.SetWriteDeadline(time.Now().Add(snapFrameTimeout)) }}
	start := r.cfg.Clock.Now()
	if err = out.serve(r.cfg.Snapshots, cutoff); err != nil {
		r.log.Info("serving a snapshot failed", "peer", s.Conn().RemotePeer(), "err", err)
		_ = out.frame(snapError, []byte(truncate(err.Error(), maxSnapError)))
	}
	_ = w.Flush()
	r.log.Info("served a snapshot", "peer", s.Conn().RemotePeer(), "events", out.counts.events,
		"aggregates", out.counts.aggs, "duration", r.cfg.Clock.Now().Sub(start), "ok", err == nil)
}

// snapWriter writes the answer's frames.
type snapWriter struct {
	w        io.Writer
	deadline func() // extends the write deadline before each frame
	counts   snapEndCounts
}

func (o *snapWriter) frame(kind byte, payload []byte) error {
	if o.deadline != nil {
		o.deadline()
	}
	return writeSnapFrame(o.w, kind, payload)
}

// serve writes the answer to a request for events from cutoff on, END
// included.
func (o *snapWriter) serve(src SnapshotSource, cutoff int64) error {
	if err := src.ExportSnapshot(cutoff, syncproto.DefaultSessionConfig().MaxBatchBytes, o.header, o.run); err != nil {
		return err
	}
	return o.frame(snapEnd, o.counts.encode())
}

func (o *snapWriter) header(h *Snapshot) error {
	ctx, err := h.Context.MarshalBinary()
	if err == nil {
		err = o.frame(snapContext, ctx)
	}
	for _, p := range encodeFloors(h.Floors) {
		if err == nil {
			err = o.frame(snapFloors, p)
		}
	}
	aggs, aerr := encodeAggs(h.Aggs)
	for _, p := range aggs {
		if err == nil {
			err = o.frame(snapAggs, p)
		}
	}
	o.counts.floors, o.counts.aggs = uint64(len(h.Floors)), uint64(len(h.Aggs))
	return errors.Join(err, aerr)
}

func (o *snapWriter) run(events []*event.Event, seal *event.Seal) error {
	p, err := (&syncproto.Delta{Events: events, Seal: seal}).MarshalBinary()
	if err != nil {
		return err
	}
	o.counts.events += uint64(len(events))
	return o.frame(snapDelta, p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Joiner is what joining through a snapshot needs of the store; the node
// adapts *store.Store to it.
type Joiner interface {
	// Apply durably stores verified events with their seals.
	Apply(ctx context.Context, events []*event.Event, seals []event.Seal) ([]*event.Event, error)
	// Install adopts the snapshot's context, aggregates and floors once its
	// events are applied.
	Install(ctx context.Context, s *Snapshot) error
}

// JoinConfig configures Join.
type JoinConfig struct {
	// Mesh is the started mesh. Required.
	Mesh *mesh.Mesh
	// Store receives the snapshot. Required.
	Store Joiner
	// CutoffMs is the event time (epoch ms) from which raw events are
	// wanted; 0 for every event the neighbour holds.
	CutoffMs int64
	// MaxBytes bounds the answer. Default 4 GiB.
	MaxBytes int64
	// Wait bounds the wait for a connected member. Default 30 s.
	Wait time.Duration
	// Logger receives logs. Default slog.Default().
	Logger *slog.Logger
	// CheckEvent, if set, must accept every event of the snapshot (the
	// schema registry); a snapshot holding an event it refuses fails, and
	// the node syncs as usual, which screens runs event by event.
	CheckEvent func(e *event.Event) error
}

// JoinResult says where a snapshot came from and what it held.
type JoinResult struct {
	Peer   peer.ID
	Events uint64 // raw events received
	Bytes  int64  // answer bytes
}

// ErrNoNeighbour is returned by Join when no member was reachable in time.
var ErrNoNeighbour = errors.New("gossip: no neighbour to join from")

// Join starts a new or wiped node from a neighbour's snapshot (run it
// before the Replicator starts, so that no session pulls the whole history
// first): it waits for a connected member, asks it for its causal context,
// aggregates and floors, with the raw events from CutoffMs on, verifies
// everything (snapReceiver), applies the events and installs the rest.
// When a member fails, it tries the next. Events applied from a failed
// answer stay: they are verified events, and anti-entropy fills the rest.
func Join(ctx context.Context, cfg JoinConfig) (JoinResult, error) {
	if cfg.Mesh == nil || cfg.Store == nil {
		return JoinResult{}, errors.New("gossip: Join needs Mesh and Store")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 4 << 30
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	peers, err := waitForMembers(ctx, cfg.Mesh, cfg.Wait)
	if err != nil {
		return JoinResult{}, err
	}
	var errs []error
	for _, p := range peers {
		res, err := joinFrom(ctx, cfg, p)
		if err == nil {
			return res, nil
		}
		cfg.Logger.Warn("snapshot from a neighbour failed", "peer", p, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return JoinResult{}, errors.Join(errs...)
}

// waitForMembers returns the connected members, polling until there is
// one or wait passes.
func waitForMembers(ctx context.Context, m *mesh.Mesh, wait time.Duration) ([]peer.ID, error) {
	deadline := time.Now().Add(wait)
	for {
		var out []peer.ID
		for _, mem := range m.Members() {
			if m.Host().Network().Connectedness(mem.ID) == network.Connected {
				out = append(out, mem.ID)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, ErrNoNeighbour
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func joinFrom(ctx context.Context, cfg JoinConfig, p peer.ID) (JoinResult, error) {
	s, err := cfg.Mesh.Host().NewStream(ctx, p, cfg.Mesh.Protocol(snapshotProtocolName))
	if err != nil {
		return JoinResult{}, fmt.Errorf("gossip: open snapshot stream: %w", err)
	}
	defer s.Close()
	_ = s.SetWriteDeadline(time.Now().Add(snapFrameTimeout))
	if _, err := s.Write(encodeSnapRequest(cfg.CutoffMs)); err != nil {
		s.Reset()
		return JoinResult{}, fmt.Errorf("gossip: send snapshot request: %w", err)
	}
	rc := newSnapReceiver(cfg.MaxBytes, func(events []*event.Event, seal *event.Seal) error {
		if cfg.CheckEvent != nil {
			for _, e := range events {
				if err := cfg.CheckEvent(e); err != nil {
					return fmt.Errorf("gossip: snapshot event %s/%d refused: %w", e.Device, e.Seq, err)
				}
			}
		}
		_, err := cfg.Store.Apply(ctx, events, []event.Seal{*seal})
		return err
	})
	br := bufio.NewReaderSize(s, 256<<10)
	for {
		_ = s.SetReadDeadline(time.Now().Add(snapFrameTimeout))
		kind, payload, err := readSnapFrame(br)
		if err != nil {
			s.Reset()
			return JoinResult{}, err
		}
		done, err := rc.handle(kind, payload)
		if err != nil {
			s.Reset()
			return JoinResult{}, err
		}
		if done {
			break
		}
	}
	if err := cfg.Store.Install(ctx, &rc.snap); err != nil {
		return JoinResult{}, fmt.Errorf("gossip: install snapshot: %w", err)
	}
	return JoinResult{Peer: p, Events: rc.events, Bytes: rc.total}, nil
}
