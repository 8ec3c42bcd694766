package node

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/retention"
	"github.com/rumor-sync/rumor/store"
)

// RetentionReport is the outcome of one retention pass.
type RetentionReport struct {
	At         time.Time
	DiskBytes  int64             // data directory size before the pass
	Window     time.Duration     // retention window the plan used
	Plan       retention.Plan    // what the policy decided
	Pruned     store.PruneResult // what the store removed
	BlobsFreed int               // blobs deleted: no held event references them
}

// retentionState is the last pass, for the status page; passes are
// serialised by its mutex.
type retentionState struct {
	mu   sync.Mutex
	last RetentionReport
	ran  bool

	ctl    sync.Mutex // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{}
}

// startRetention runs retention passes in the background when configured.
func (n *Node) startRetention(ctx context.Context) {
	if !n.cfg.Retention.enabled() {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	n.ret.ctl.Lock()
	n.ret.cancel, n.ret.done = cancel, done
	n.ret.ctl.Unlock()
	go func() {
		defer close(done)
		n.runRetention(ctx)
	}()
}

// stopRetention stops the background passes and waits for the current one.
func (n *Node) stopRetention() {
	n.ret.ctl.Lock()
	cancel, done := n.ret.cancel, n.ret.done
	n.ret.cancel = nil
	n.ret.ctl.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// retentionGossip sets the replication fields retention needs: where to
// keep the sinks' watermarks, what to serve joining nodes, and the
// archived watermark to publish (members heed it only from a sink).
func (n *Node) retentionGossip(g *gossip.Config) {
	g.WatermarkStore, g.Snapshots = n.store, snapshotStore{n.store}
	g.Watermarks, g.WatermarkInterval = n.cfg.Retention.Watermarks, n.cfg.Retention.WatermarkInterval
}

// runRetention runs a retention pass every Retention.Interval until ctx ends.
func (n *Node) runRetention(ctx context.Context) {
	t := time.NewTicker(n.cfg.Retention.Interval)
	defer t.Stop()
	for {
		if _, err := n.RetentionPass(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("retention pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxRounds bounds the rounds of one pass: the policy estimates bytes
// per event, and space comes back a segment at a time, so meeting the disk
// budget may take a second look.
const maxRounds = 4

// RetentionPass runs one retention pass now: it measures the data
// directory, asks the policy what may go (retention.Decide), shrinking the
// window while the disk budget is not met, prunes the store and deletes
// the blobs no held event references any more; while still over the
// budget and making progress, it measures and goes again.
func (n *Node) RetentionPass(ctx context.Context) (RetentionReport, error) {
	n.ret.mu.Lock()
	defer n.ret.mu.Unlock()
	var rep RetentionReport
	for round := 0; round < maxRounds; round++ {
		r, err := n.retentionRound(ctx)
		if round == 0 {
			rep = r
		} else {
			rep.Plan, rep.Window = r.Plan, r.Window
			rep.Pruned.Events += r.Pruned.Events
			rep.Pruned.Segments += r.Pruned.Segments
			rep.Pruned.SegmentBytes += r.Pruned.SegmentBytes
			rep.BlobsFreed += r.BlobsFreed
			if rep.Pruned.Floors == nil {
				rep.Pruned.Floors = map[string]uint64{}
			}
			maps.Copy(rep.Pruned.Floors, r.Pruned.Floors)
		}
		if err != nil {
			return rep, err
		}
		if r.Plan.OverBytes == 0 || r.Pruned.Events == 0 {
			break
		}
	}
	n.reportRetention(rep)
	return rep, nil
}

// retentionRound measures, plans and prunes once.
func (n *Node) retentionRound(ctx context.Context) (RetentionReport, error) {
	rep := RetentionReport{At: n.cfg.Clock.Now()}
	disk, err := dirBytes(n.cfg.DataDir)
	if err != nil {
		return rep, err
	}
	rep.DiskBytes = disk
	in := n.retentionInput(disk)
	for i, w := range retention.Windows(n.cfg.Retention.Retain) {
		if i > 0 && (n.cfg.Retention.MaxDisk == 0 || rep.Plan.ShortBytes == 0 || rep.Plan.Blocked) {
			break
		}
		if err := n.ageOrigins(in, retention.Cutoff(rep.At, w), i == 0); err != nil {
			return rep, err
		}
		rep.Window, rep.Plan = w, retention.Decide(*in)
	}
	if rep.Plan.OverBytes > 0 {
		n.roundUpToSeals(in, rep.Plan.Below)
	}
	if len(rep.Plan.Below) > 0 {
		if rep.Pruned, err = n.store.Prune(ctx, rep.Plan.Below); err != nil {
			return rep, err
		}
		if rep.BlobsFreed, err = n.freeBlobs(rep.Pruned); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// retentionInput gathers what the policy looks at, Aged aside.
func (n *Node) retentionInput(disk int64) *retention.Input {
	archived, stable := n.prunableWatermarks(), map[string]uint64(nil)
	_, r := n.network()
	if n.cfg.Retention.PruneWhenAllHave && r != nil {
		stable, _ = r.StableWatermark()
	}
	held := n.store.Context()
	floors := n.store.Floors()
	in := &retention.Input{Origins: map[string]retention.Origin{}, WhenAllHave: n.cfg.Retention.PruneWhenAllHave,
		DiskBytes: disk, MaxDisk: n.cfg.Retention.MaxDisk}
	for _, o := range held.Origins() {
		in.Origins[o] = retention.Origin{Floor: floors[o], Max: held.Max(o), Archived: archived[o], Stable: stable[o]}
	}
	return in
}

// ageOrigins sets each origin's Pressure, and its Aged too when retain is
// set, to the highest seq older than cutoff.
func (n *Node) ageOrigins(in *retention.Input, cutoff int64, retain bool) error {
	for id, o := range in.Origins {
		aged := o.Floor
		if line := retention.Line(o, in.WhenAllHave); line > o.Floor && cutoff != math.MinInt64 {
			var err error
			if aged, err = n.store.AgedSeq(id, cutoff, o.Floor, line); err != nil {
				return err
			}
		}
		o.Pressure = aged
		if retain {
			o.Aged = aged
		}
		in.Origins[id] = o
	}
	return nil
}

// roundUpToSeals moves each floor of below up to the next seal within
// the origin's line: the store prunes down to a sealed seq, and under disk
// pressure rounding down could leave the budget unmet pass after pass.
func (n *Node) roundUpToSeals(in *retention.Input, below map[string]uint64) {
	for o, b := range below {
		seal, err := n.store.NextSeal(o, b)
		if err == nil && seal.Seq <= retention.Line(in.Origins[o], in.WhenAllHave) {
			below[o] = seal.Seq
		}
	}
}

// archivedWatermarks is, per origin, the highest seq some sink archived:
// from the mesh when networked, else as last persisted; a sink's own
// archive counts too.
func (n *Node) archivedWatermarks() map[string]uint64 {
	out := map[string]uint64{}
	if _, r := n.network(); r != nil {
		out = r.Archived()
	} else if all, err := n.store.Watermarks(); err == nil {
		for _, wm := range all {
			for o, seq := range wm {
				out[o] = max(out[o], seq)
			}
		}
	}
	if f := n.cfg.Retention.Watermarks; f != nil {
		for o, seq := range f() {
			out[o] = max(out[o], seq)
		}
	}
	return out
}

// freeBlobs deletes the blobs the pruned events referenced that no held
// event references any more.
func (n *Node) freeBlobs(res store.PruneResult) (int, error) {
	free, err := n.store.UnreferencedBlobs(res.Blobs)
	if err != nil {
		return 0, err
	}
	freed := 0
	for _, c := range free {
		switch err := n.blobs.Delete(c); {
		case err == nil:
			freed++
		case errors.Is(err, cas.ErrNotFound): // gone already
		default:
			return freed, err
		}
	}
	return freed, nil
}

// reportRetention logs a pass, feeds the metrics and keeps it for the
// status page.
func (n *Node) reportRetention(rep RetentionReport) {
	p := rep.Plan
	if rep.Pruned.Events > 0 || rep.Pruned.Segments > 0 {
		n.log.Info("pruned archived events", "events", rep.Pruned.Events, "segments", rep.Pruned.Segments,
			"segment_bytes", rep.Pruned.SegmentBytes, "blobs", rep.BlobsFreed, "window", windowString(rep.Window),
			"disk_bytes", rep.DiskBytes)
	}
	if p.Blocked {
		n.log.Warn("disk budget cannot be met: the rest of the events are not archived yet",
			"disk_bytes", rep.DiskBytes, "max_disk", n.cfg.Retention.MaxDisk, "short_bytes", p.ShortBytes,
			"unarchived_events", p.Unarchived)
	}
	n.retMetrics.Pass(rep.Pruned.Events, rep.Pruned.SegmentBytes, rep.DiskBytes, p.ShortBytes, p.Blocked, p.Unarchived)
	n.ret.last, n.ret.ran = rep, true
}

func windowString(w time.Duration) string {
	if w == retention.Forever {
		return "none"
	}
	return w.String()
}

// dirBytes is the disk space the files under dir take (allocated blocks,
// as du counts them).
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// retentionStatus is the retention part of GET /v1/status.
func (n *Node) retentionStatus() api.Retention {
	rc := n.cfg.Retention
	out := api.Retention{Archived: n.archivedWatermarks(), Pruned: n.store.Floors(), Sinks: []api.Sink{},
		Retain: rc.Retain.String(), MaxDisk: rc.MaxDisk, PruneWhenAllHave: rc.PruneWhenAllHave}
	m, r := n.network()
	var sinks map[string]map[string]uint64
	if r != nil {
		sinks = r.SinkWatermarks()
	} else {
		sinks, _ = n.store.Watermarks()
	}
	live := map[string]bool{}
	if m != nil {
		for _, mem := range m.Members() {
			live[mem.ID.String()] = mem.Role == RoleSink
		}
	}
	ids := slices.Sorted(maps.Keys(sinks))
	for _, id := range ids {
		out.Sinks = append(out.Sinks, api.Sink{ID: id, Member: live[id] || id == n.ID(), Watermarks: sinks[id]})
	}
	n.ret.mu.Lock()
	defer n.ret.mu.Unlock()
	if n.ret.ran {
		l := n.ret.last
		out.LastPass = &api.RetentionPass{At: l.At.UTC().Format(time.RFC3339), DiskBytes: l.DiskBytes,
			Window: windowString(l.Window), PrunedEvents: l.Pruned.Events, FreedSegments: l.Pruned.Segments,
			FreedBytes: l.Pruned.SegmentBytes, FreedBlobs: l.BlobsFreed, Blocked: l.Plan.Blocked,
			ShortBytes: l.Plan.ShortBytes, UnarchivedEvents: l.Plan.Unarchived}
	}
	return out
}
