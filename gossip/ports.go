package gossip

import (
	"context"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// Store is what replication needs of the node's store; *store.Store
// implements it. All methods are safe for concurrent use.
type Store interface {
	syncproto.Replica
	// Origin is this node's device id.
	Origin() string
	// Holds reports whether the event at d is held.
	Holds(d crdt.Dot) bool
	// Seal returns the newest seal held for origin.
	Seal(origin string) (event.Seal, error)
	// Apply durably stores verified events from peers with their seals,
	// skipping those already held, and returns the new ones.
	Apply(ctx context.Context, events []*event.Event, seals []event.Seal) ([]*event.Event, error)
	// ApplyAsync submits what Apply would store and returns a function
	// that waits for it; submissions are stored in order. encoded[i], when
	// not nil, is events[i]'s canonical encoding, stored as it is.
	ApplyAsync(ctx context.Context, events []*event.Event, encoded [][]byte, seals []event.Seal) (func() ([]*event.Event, error), error)
	// RecordFork keeps two authentic, different events at one dot as
	// evidence that their origin forked.
	RecordFork(held, received *event.Event) error
}

// Blobs is what the blob exchange needs of the blob store; *cas.Store
// implements it.
type Blobs interface {
	// GetBlock returns a stored block, verified against its CID.
	GetBlock(c cid.Cid) ([]byte, error)
	// PutBlock verifies data against c and stores it.
	PutBlock(c cid.Cid, data []byte) error
	// Missing lists the blocks of c not held (c itself when absent).
	Missing(c cid.Cid) ([]cid.Cid, error)
}

// Observer receives replication events for metrics and traces. Calls come
// from many goroutines and must not block.
type Observer interface {
	// SessionDone reports one finished anti-entropy session.
	SessionDone(rec SessionRecord)
	// Rejected reports data from p rejected for reason.
	Rejected(p peer.ID, reason string)
	// Received reports n new events received from p.
	Received(p peer.ID, n int)
}

// nopObserver is the Observer used when none is configured.
type nopObserver struct{}

func (nopObserver) SessionDone(SessionRecord) {}
func (nopObserver) Rejected(peer.ID, string)  {}
func (nopObserver) Received(peer.ID, int)     {}
