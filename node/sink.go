package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/metrics"
	"github.com/rumor-sync/rumor/sink"
	"github.com/rumor-sync/rumor/store"
)

// validateArchive checks the archive settings.
func (c *Config) validateArchive() error {
	switch {
	case c.Archive != "" && c.Role != RoleSink:
		return fmt.Errorf("node: config: an archive (%s) needs role %q", c.Archive, RoleSink)
	case c.ArchiveRows < 1 || c.ArchiveRows > sink.MaxRows:
		return fmt.Errorf("node: config: archive rows %d is not between 1 and %d", c.ArchiveRows, sink.MaxRows)
	case c.ArchiveAge <= 0:
		return fmt.Errorf("node: config: archive age %v must be positive", c.ArchiveAge)
	case c.Role == RoleSink && c.Retention.PruneWhenAllHave:
		return errors.New("node: config: a sink prunes only what it archived itself; --prune-when-all-have is for devices")
	}
	return nil
}

// archiveURL returns where a sink archives: cfg.Archive, or DataDir/archive.
func (c *Config) archiveURL() string {
	if c.Archive != "" {
		return c.Archive
	}
	return filepath.Join(c.DataDir, "archive")
}

// The archive metrics also count what redactions do to the archive.
var _ sink.RedactionObserver = (*metrics.Archive)(nil)

// sinkState is a sink's archiver and the goroutine running it.
type sinkState struct {
	a      *sink.Archiver
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

// newArchiver opens the archive bucket and prepares the archiver (a sink
// only); Run starts it.
func (n *Node) newArchiver() error {
	if n.cfg.Role != RoleSink {
		return nil
	}
	tmp := filepath.Join(n.cfg.DataDir, "archive-tmp")
	if err := os.RemoveAll(tmp); err != nil { // spool files of a crashed run
		return fmt.Errorf("node: clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("node: create %s: %w", tmp, err)
	}
	b, err := sink.OpenBucket(context.Background(), n.cfg.archiveURL())
	if err != nil {
		return err
	}
	obs, err := n.metrics.Archive()
	if err != nil {
		b.Close()
		return err
	}
	cfg := sink.DefaultConfig()
	cfg.Bucket, cfg.Events, cfg.Blobs, cfg.Observer = b, n.store, n.blobs, obs
	cfg.Fetch = func(ctx context.Context, c cid.Cid) error { return n.fetchBlob(ctx, c) }
	cfg.Cache = sink.NewBadgerCache(n.store.DB(), []byte{store.PrefixArchive})
	cfg.Redactions, cfg.Ledger = n.store, sink.NewLedger(n.store.DB(), []byte{store.PrefixSinkState})
	cfg.Rows, cfg.Age, cfg.TempDir = n.cfg.ArchiveRows, n.cfg.ArchiveAge, tmp
	cfg.Clock, cfg.Logger = n.cfg.Clock, n.log
	a, err := sink.New(cfg)
	if err != nil {
		b.Close()
		return err
	}
	n.sink = &sinkState{a: a}
	if n.cfg.Retention.Watermarks == nil {
		// What this sink archived is what it gossips to the mesh as its
		// archived watermark (see retention.go).
		n.cfg.Retention.Watermarks = a.Watermarks
	}
	return nil
}

// prunableWatermarks is, per origin, the seq retention may prune up to:
// on a device, what some sink archived; on a sink, only what its own
// archive holds, since an event it pruned before archiving it would be a
// hole in its archive forever.
func (n *Node) prunableWatermarks() map[string]uint64 {
	if n.sink != nil {
		return n.sink.a.Watermarks()
	}
	return n.archivedWatermarks()
}

// startArchive runs the archiver until stopArchive or ctx's end.
func (n *Node) startArchive(ctx context.Context) {
	if n.sink == nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	n.sink.cancel, n.sink.done = cancel, make(chan struct{})
	go func() {
		defer close(n.sink.done)
		_ = n.sink.a.Run(ctx)
	}()
	n.log.Info("archiving", "archive", n.cfg.archiveURL(), "rows", n.cfg.ArchiveRows, "age", n.cfg.ArchiveAge)
}

// stopArchive stops the archiver and closes its bucket. An upload in
// flight is abandoned: it is written again after the restart.
func (n *Node) stopArchive() error {
	if n.sink == nil {
		return nil
	}
	var err error
	n.sink.stop.Do(func() {
		if n.sink.cancel != nil {
			n.sink.cancel()
			<-n.sink.done
		}
		err = n.sink.a.Close()
	})
	return err
}

// Archiver returns a sink's archiver, nil on a device.
func (n *Node) Archiver() *sink.Archiver {
	if n.sink == nil {
		return nil
	}
	return n.sink.a
}

// archiveList answers GET /v1/archive.
func (n *Node) archiveList(q api.ArchiveQuery) api.ArchiveList {
	a := n.sink.a
	files, more := a.Files(sink.FileQuery{Device: q.Device, Date: q.Date, After: q.After, Limit: q.Limit})
	out := api.ArchiveList{Listed: a.Recovered(), Watermarks: a.Watermarks(), More: more, Files: make([]api.ArchiveFile, len(files))}
	for i, f := range files {
		out.Files[i] = api.ArchiveFile{Name: f.Name, Device: f.Device, Date: f.Date, First: f.First, Last: f.Last, Rows: f.Rows(), Bytes: f.Bytes}
	}
	return out
}
