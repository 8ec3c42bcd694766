package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/gossip/syncproto"
	"github.com/rumor-sync/rumor/metrics"
	"github.com/rumor-sync/rumor/node/series"
	"github.com/rumor-sync/rumor/schema"
	"github.com/rumor-sync/rumor/store"
)

// shutdownGrace bounds how long Run waits for in-flight requests on exit.
const shutdownGrace = 15 * time.Second

// Node is one running rumor device.
type Node struct {
	cfg Config
	log *slog.Logger
	id  Identity
	// idText is id.ID.String(), kept because base58-encoding it per event
	// in the commit hooks cost a fifth of the ingest CPU.
	idText string
	store  *store.Store
	blobs  *cas.Store
	api    *api.Server

	rel releaser // releases blobs of redacted events

	netMu sync.Mutex // guards mesh, repl and mqtt
	mesh  *mesh.Mesh
	repl  *gossip.Replicator
	mqtt  *broker // nil unless cfg.MQTTAddr is set and Run started it

	series *series.Sampler // activity for the dashboard's charts
	sw     *switches       // the live sync switches

	schemas *schema.Registry // payload schemas (--schemas); nil: none

	sink *sinkState // a sink's archiver; nil on a device

	metrics *metrics.Metrics // Prometheus metrics, served on GET /metrics
	closing atomic.Bool      // set once shutdown begins: not ready

	ret        retentionState     // retention passes (retention.go)
	retMetrics *metrics.Retention // retention metrics
}

var (
	_ api.EventStore = (*store.Store)(nil)
	_ api.BlobStore  = (*cas.Store)(nil)
	// The sync fast paths: runs sent as stored encodings, received runs
	// checked without a lookup per event.
	_ syncproto.EncodedReader = (*store.Store)(nil)
	_ syncproto.HighestReader = (*store.Store)(nil)
)

// New opens the node's data directory (creating it and its identity on
// first start) and prepares the API. It does not listen yet; see Run.
func New(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	id, err := LoadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("device", id.ID.String()), id: id, idText: id.ID.String()}
	if err := n.loadSchemas(); err != nil {
		return nil, err
	}
	if n.series, err = newSeries(cfg.Clock); err != nil {
		return nil, err
	}
	if n.metrics, err = n.newMetrics(); err != nil {
		return nil, err
	}
	if n.sw, err = newSwitches(&cfg); err != nil {
		return nil, err
	}
	if err := n.watchSwitches(); err != nil {
		return nil, err
	}
	if n.retMetrics, err = metrics.NewRetention(n.metrics.Registry()); err != nil {
		return nil, err
	}
	scfg := store.DefaultConfig()
	scfg.Dir, scfg.Origin, scfg.Signer = cfg.DataDir, id.ID.String(), id.Key
	scfg.Clock, scfg.Logger, scfg.MaxClockSkew = cfg.Clock, n.log, cfg.MaxClockSkew
	scfg.OnCommit = n.committed
	scfg.Operators = cfg.Operators
	scfg.SegmentBytes = cfg.Retention.segmentBytes(scfg.SegmentBytes)
	if n.store, err = store.Open(scfg); err != nil {
		return nil, err
	}
	if n.blobs, err = cas.New(n.store.DB(), []byte{store.PrefixBlobs}); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("node: open blob store: %w", err)
	}
	// A crash during a blob upload can leave orphan chunks; collect them.
	if freed, err := n.blobs.GC(context.Background()); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("node: blob store GC: %w", err)
	} else if freed > 0 {
		n.log.Info("removed orphan blob chunks", "bytes", freed)
	}
	if err := n.newArchiver(); err != nil {
		n.store.Close()
		return nil, err
	}
	acfg := api.Config{
		Events: observedStore{n.store, n.metrics, cfg.Clock}, Blobs: n.blobs, Info: n.info, Health: n.health, Fetch: n.fetchBlob,
		MaxBody: cfg.MaxBody, MaxBlob: cfg.MaxBlob, Logger: n.log,
		Trace: n.trace, Ready: n.ready, Switches: switchesAPI{n}, CheckPayload: n.payloadCheck(),
		Redactor:  n.store,
		Retention: n.retentionStatus,
	}
	if n.sink != nil {
		acfg.Archive = n.archiveList
	}
	if n.api, err = api.New(acfg); err != nil {
		n.stopArchive()
		n.store.Close()
		return nil, err
	}
	n.startReleaser()
	n.mountDashboard()
	n.api.Handle("GET /metrics", n.metrics.Handler())
	return n, nil
}

// ID returns the device id.
func (n *Node) ID() string { return n.idText }

// Store returns the node's event store.
func (n *Node) Store() *store.Store { return n.store }

// Blobs returns the node's blob store.
func (n *Node) Blobs() *cas.Store { return n.blobs }

// Handler returns the node's HTTP API handler.
func (n *Node) Handler() http.Handler { return n.api }

// committed is the store's OnCommit hook: it wakes the replicator's push
// when the commit has events of this device, and the commit's other
// consumers. The store counted the commit's events as it wrote them (a
// catch-up commits thousands at a time).
func (n *Node) committed(c store.Commit) {
	n.noteRedactions(c)
	n.countCommit(c)
	n.countIngested(c)
	if _, r := n.network(); r != nil && c.Local > 0 {
		r.Committed()
	}
	if n.sink != nil {
		n.sink.a.Notify()
	}
	if n.cfg.OnCommit != nil {
		n.cfg.OnCommit(c.Events)
	}
}

// Run serves the API on cfg.APIAddr until ctx ends, then shuts down
// gracefully and closes the node. ready, if not nil, is called with the
// bound address once the listener is up.
func (n *Node) Run(ctx context.Context, ready func(addr net.Addr)) error {
	if err := n.startNetwork(ctx); err != nil {
		n.Close()
		return err
	}
	if err := n.startMQTT(ctx); err != nil {
		n.Close()
		return err
	}
	n.startRetention(ctx)
	n.startArchive(ctx)
	ln, err := net.Listen("tcp", n.cfg.APIAddr)
	if err != nil {
		n.Close()
		return fmt.Errorf("node: listen on %s: %w", n.cfg.APIAddr, err)
	}
	srv := &http.Server{Handler: n.api, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	n.log.Info("node running", "api", ln.Addr().String(), "data", n.cfg.DataDir, "role", n.cfg.Role)
	if ready != nil {
		ready(ln.Addr())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	n.log.Info("shutting down")
	n.closing.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, shutErr, n.Close())
}

// Close stops the MQTT broker and networking and closes the stores.
// In-flight commits finish first.
func (n *Node) Close() error {
	n.closing.Store(true)
	n.stopRetention()
	err := errors.Join(n.stopMQTT(), n.stopArchive(), n.stopNetwork(), n.stopReleaser(), n.store.Close())
	if err == nil {
		n.log.Info("closed cleanly")
	}
	return err
}
