package gossip

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/rumor-sync/rumor/gossip/budget"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/gossip/policy"
)

// Protocol names, under the mesh's namespace /rumor/<mesh>/. The sync
// protocol has one ID per version (sync/1, sync/2; see syncProtocols).
const (
	blobProtocolName = "blob/1"
	announceTopic    = "announce/1"
)

// Replicator keeps a node's replica converged with its mesh. Create it
// with New, start it with Start, stop it with Close.
type Replicator struct {
	cfg    Config
	log    *slog.Logger
	mesh   *mesh.Mesh
	obs    Observer
	health *tracker
	trace  *traceRing // sessions
	pushes *traceRing // events applied from announcements

	pol         *policy.Holder // the live sync switches
	budget      *budget.Set    // bandwidth budget per peer
	rounds      roundRing
	announced   atomic.Uint64 // announcements published
	eagerQueued atomic.Uint64 // blobs queued for a background fetch

	syncProtos []protocol.ID // newest first: what this node offers
	blobProto  protocol.ID

	mu         sync.Mutex // guards rnd, peers, running, inbound, rejections, closed
	closed     bool       // Close has begun: stream handlers are refused (enter)
	rnd        *rand.Rand
	peers      map[peer.ID]*peerState
	running    map[peer.ID]bool // outbound sessions
	inbound    map[peer.ID]bool // inbound sessions
	rejections map[peer.ID]map[string]uint64
	refused    refusals // when refused events were last logged, per origin

	marks   *watermarkTable // sinks' archived watermarks (watermarks.go)
	members *memberContexts // what each member holds (stable.go)
	wmTopic *pubsub.Topic   // the watermark topic
	snapSem chan struct{}   // one snapshot served at a time

	kick     chan peer.ID
	announce chan struct{}
	blobQ    chan blobJob
	topic    *pubsub.Topic

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New validates cfg and registers the protocol handlers on the mesh host.
func New(cfg Config) (*Replicator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	pol, err := cfg.policyHolder()
	if err != nil {
		return nil, err
	}
	var seed [16]byte
	_, _ = crand.Read(seed[:])
	r := &Replicator{
		cfg: cfg, log: cfg.Logger.With("component", "gossip"), mesh: cfg.Mesh, obs: obs,
		health:     newTracker(cfg.Clock),
		trace:      newTraceRing(traceSize),
		pushes:     newTraceRing(traceSize),
		pol:        pol,
		budget:     budget.NewSet(cfg.Clock),
		syncProtos: syncProtocols(cfg.Mesh, cfg.MaxProtocol),
		blobProto:  cfg.Mesh.Protocol(blobProtocolName),
		rnd:        rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
		peers:      map[peer.ID]*peerState{},
		running:    map[peer.ID]bool{},
		inbound:    map[peer.ID]bool{},
		rejections: map[peer.ID]map[string]uint64{},
		kick:       make(chan peer.ID, 64),
		announce:   make(chan struct{}, 1),
		blobQ:      make(chan blobJob, 1024),
		marks:      newWatermarkTable(),
		members:    newMemberContexts(),
		snapSem:    make(chan struct{}, 1),
	}
	if err := r.loadWatermarks(); err != nil {
		return nil, err
	}
	return r, nil
}

// Start begins serving and syncing until ctx ends or Close is called.
func (r *Replicator) Start(ctx context.Context) error {
	r.ctx, r.cancel = context.WithCancel(ctx)
	h := r.mesh.Host()
	for _, id := range r.syncProtos {
		h.SetStreamHandler(id, r.handleSync)
	}
	h.SetStreamHandler(r.blobProto, r.handleBlob)
	if r.cfg.Snapshots != nil {
		h.SetStreamHandler(r.mesh.Protocol(snapshotProtocolName), r.handleSnapshot)
	}
	if err := r.startPush(); err != nil {
		r.cancel()
		return err
	}
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) { r.Kick(c.RemotePeer()) },
	})
	r.mesh.Subscribe(func(ev mesh.MemberEvent) {
		if ev.Kind == mesh.Joined {
			r.Kick(ev.Member.ID)
		}
	})
	r.spawn(r.antiEntropyLoop)
	r.spawn(r.pushLoop)
	r.spawn(r.blobLoop)
	return nil
}

// Close stops every loop and session and waits for them.
func (r *Replicator) Close() error {
	if r.cancel == nil {
		return nil
	}
	h := r.mesh.Host()
	for _, id := range r.syncProtos {
		h.RemoveStreamHandler(id)
	}
	h.RemoveStreamHandler(r.blobProto)
	h.RemoveStreamHandler(r.mesh.Protocol(snapshotProtocolName))
	r.quiesce()
	var err error
	if r.wmTopic != nil {
		err = r.wmTopic.Close()
	}
	if r.topic != nil {
		return errors.Join(r.topic.Close(), err)
	}
	return err
}

// Kick asks for an anti-entropy session with p as soon as possible.
func (r *Replicator) Kick(p peer.ID) {
	if p == r.mesh.ID() {
		return
	}
	select {
	case r.kick <- p:
	default:
	}
}

func (r *Replicator) spawn(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

// enter counts a goroutine the replicator did not start (a stream
// handler's) into its wait group, unless Close has begun; the caller
// calls r.wg.Done when it returns. Admission and Close's start share
// r.mu, so no handler is added once Close waits for the group.
func (r *Replicator) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || !r.alive() {
		return false
	}
	r.wg.Add(1)
	return true
}

// quiesce stops admitting handlers, cancels every goroutine and waits for
// them to return.
func (r *Replicator) quiesce() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// alive reports whether the replicator is still running.
func (r *Replicator) alive() bool { return r.ctx != nil && r.ctx.Err() == nil }
