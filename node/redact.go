package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/gossip"
	"github.com/rumor-sync/rumor/store"
)

// validateRedaction checks the redaction settings.
func (c *Config) validateRedaction() error {
	for _, op := range c.Operators {
		id, err := peer.Decode(op)
		if err != nil {
			return fmt.Errorf("node: config: operator %q is not a device id: %v", op, err)
		}
		if pub, err := id.ExtractPublicKey(); err != nil || pub.Type() != crypto.Ed25519 {
			return fmt.Errorf("node: config: operator %q is not an Ed25519 device id", op)
		}
	}
	if c.SyncProtocol < 0 || c.SyncProtocol > 2 {
		return fmt.Errorf("node: config: sync protocol %d: use 1, 2, or 0 for the newest", c.SyncProtocol)
	}
	return nil
}

// releaser deletes from the blob store the blobs whose last reference a
// redaction removed (store.BlobsToRelease), in the background: woken by
// commits that hold redactions, and once at start for what a crash left
// queued.
type releaser struct {
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (n *Node) startReleaser() {
	ctx, cancel := context.WithCancel(context.Background())
	n.rel.wake, n.rel.cancel = make(chan struct{}, 1), cancel
	n.rel.wg.Add(1)
	go func() {
		defer n.rel.wg.Done()
		for {
			if err := n.releaseBlobs(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("releasing the blobs of redacted events failed; retried at the next redaction", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-n.rel.wake:
			}
		}
	}()
}

func (n *Node) stopReleaser() error {
	if n.rel.cancel != nil {
		n.rel.cancel()
		n.rel.wg.Wait()
	}
	return nil
}

// noteRedactions wakes the releaser when a commit holds a redaction.
func (n *Node) noteRedactions(c store.Commit) {
	if c.Redactions {
		select {
		case n.rel.wake <- struct{}{}:
		default:
		}
	}
}

// releaseBlobs deletes each queued blob nothing references any more.
func (n *Node) releaseBlobs(ctx context.Context) error {
	queue, err := n.store.BlobsToRelease()
	if err != nil || len(queue) == 0 {
		return err
	}
	if !n.store.BlobRefsComplete() {
		n.log.Info("indexing blob references once, for a data directory from before redactions")
		if err := n.store.BackfillBlobRefs(ctx); err != nil {
			return err
		}
	}
	for _, c := range queue {
		if !n.store.BlobReferenced(c) {
			if err := n.blobs.Delete(c); err != nil && !errors.Is(err, cas.ErrNotFound) {
				return fmt.Errorf("node: delete redacted blob %s: %w", c, err)
			}
		}
		if err := n.store.ReleaseDone(c); err != nil {
			return err
		}
	}
	n.log.Info("released the blobs of redacted events", "blobs", len(queue))
	return nil
}

// redactedBlobs is the blob store as replication sees it: a blob released
// because of a redaction is not stored again from a peer (one that has not
// applied the redaction yet, or a fetch already under way) while nothing
// references it.
type redactedBlobs struct {
	*cas.Store
	st *store.Store
}

var _ gossip.Blobs = redactedBlobs{}

// PutBlock refuses a redacted blob, else stores the block.
func (b redactedBlobs) PutBlock(c cid.Cid, data []byte) error {
	if b.st.BlobRedacted(c) {
		return fmt.Errorf("node: blob %s was redacted", c)
	}
	return b.Store.PutBlock(c, data)
}
