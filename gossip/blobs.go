package gossip

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/event"
)

// Blob protocol: the client writes one request, the CID's bytes behind a
// uvarint length; the server answers a status byte, then for statusOK the
// block behind a uvarint length. One block per stream.
const (
	statusOK       = 0
	statusNotFound = 1
	statusError    = 2
	maxBlockBytes  = cas.ChunkSize + 1<<20 // a chunk, or a root block
	blobTimeout    = 30 * time.Second      // without progress
	blobMaxTime    = 10 * time.Minute      // for one block, however slow the budget
)

// ErrBlobUnavailable is returned when no connected peer holds a block.
var ErrBlobUnavailable = errors.New("gossip: blob not available from any connected peer")

// blobJob asks the blob loop to fetch one blob in the background.
type blobJob struct {
	c    cid.Cid
	from peer.ID
}

// handleBlob serves one block request.
func (r *Replicator) handleBlob(s network.Stream) {
	defer s.Close()
	if !r.enter() {
		s.Reset()
		return
	}
	defer r.wg.Done()
	defer context.AfterFunc(r.ctx, func() { s.Reset() })() // Close does not wait out a slow peer
	_ = s.SetDeadline(time.Now().Add(blobTimeout))
	br := bufio.NewReader(s)
	n, err := binary.ReadUvarint(br)
	if err != nil || n == 0 || n > event.MaxCIDLen {
		s.Reset()
		return
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(br, raw); err != nil {
		s.Reset()
		return
	}
	c, err := cid.Cast(raw)
	if err != nil {
		r.strike(s.Conn().RemotePeer(), "bad_blob_request", err)
		s.Reset()
		return
	}
	data, err := r.cfg.Blobs.GetBlock(c)
	switch {
	case errors.Is(err, cas.ErrNotFound):
		_, _ = s.Write([]byte{statusNotFound})
	case err != nil:
		_, _ = s.Write([]byte{statusError})
	default:
		out := binary.AppendUvarint([]byte{statusOK}, uint64(len(data)))
		_, _ = r.throttle(r.ctx, s).Write(append(out, data...))
	}
}

// fetchBlock asks p for the block c and stores it if it verifies.
func (r *Replicator) fetchBlock(ctx context.Context, p peer.ID, c cid.Cid) error {
	ctx, cancel := context.WithTimeout(ctx, blobTimeout)
	defer cancel()
	s, err := r.mesh.Host().NewStream(ctx, p, r.blobProto)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(blobTimeout))
	req := binary.AppendUvarint(nil, uint64(len(c.Bytes())))
	if _, err := r.throttle(ctx, s).Write(append(req, c.Bytes()...)); err != nil {
		return err
	}
	_ = s.CloseWrite()
	br := bufio.NewReader(&idleReader{s: s, idle: blobTimeout, hard: time.Now().Add(blobMaxTime)})
	status, err := br.ReadByte()
	if err != nil {
		return err
	}
	if status != statusOK {
		return fmt.Errorf("gossip: peer %s has no block %s", p, c)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxBlockBytes {
		return fmt.Errorf("gossip: bad block length from %s", p)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(br, data); err != nil {
		return err
	}
	if err := r.cfg.Blobs.PutBlock(c, data); err != nil {
		r.strike(p, "corrupt_block", err)
		return err
	}
	return nil
}

// FetchBlob makes the blob c whole locally, block by block, from connected
// peers (prefer first, when set). It returns ErrBlobUnavailable if some
// block is held by no connected peer.
func (r *Replicator) FetchBlob(ctx context.Context, c cid.Cid, prefer peer.ID) error {
	for round := 0; round < 3; round++ { // the root, then its chunks
		missing, err := r.cfg.Blobs.Missing(c)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return nil
		}
		for _, b := range missing {
			if err := r.fetchFromAny(ctx, b, prefer); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Replicator) fetchFromAny(ctx context.Context, c cid.Cid, prefer peer.ID) error {
	peers := r.mesh.Host().Network().Peers()
	if prefer != "" {
		peers = append([]peer.ID{prefer}, peers...)
	}
	for _, p := range peers {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.fetchBlock(ctx, p, c) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrBlobUnavailable, c)
}

// blobLoop fetches blobs that received events reference, while the blob
// policy has this node fetch eagerly; jobs queued before a switch to on
// demand are dropped.
func (r *Replicator) blobLoop() {
	for {
		select {
		case <-r.ctx.Done():
			return
		case j := <-r.blobQ:
			if !r.settings().FetchesEagerly(r.cfg.Sink) {
				continue
			}
			if err := r.FetchBlob(r.ctx, j.c, j.from); err != nil && r.alive() {
				r.log.Debug("eager blob fetch failed; will fetch on demand", "cid", j.c, "err", err)
			}
		}
	}
}

// noteApplied records new events from p: health, and eager blob fetches
// when the blob policy asks for them.
func (r *Replicator) noteApplied(events []*event.Event, from peer.ID) {
	r.health.arrivedAll(events)
	if !r.settings().FetchesEagerly(r.cfg.Sink) {
		return
	}
	for _, e := range events {
		for _, c := range e.Blobs {
			select {
			case r.blobQ <- blobJob{c: c, from: from}:
				r.eagerQueued.Add(1)
			default: // queue full: these blobs will be fetched on demand
			}
		}
	}
}
