package gossip

import (
	"context"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/rumor-sync/rumor/gossip/budget"
)

// writeIdle bounds how long one piece written under the bandwidth budget
// may block; each piece sets a new write deadline.
const writeIdle = 30 * time.Second

// throttled writes to a sync or blob stream within the bandwidth budget
// for its peer (policy.Settings.PeerBandwidth, read on every write): each
// piece is reserved from the peer's bucket, and written once its wait has
// passed. All streams to one peer share its bucket.
type throttled struct {
	r    *Replicator
	ctx  context.Context
	s    network.Stream
	peer string
}

// throttle returns s's writer under the budget; waits end with ctx.
func (r *Replicator) throttle(ctx context.Context, s network.Stream) io.Writer {
	return &throttled{r: r, ctx: ctx, s: s, peer: s.Conn().RemotePeer().String()}
}

// Write implements io.Writer.
func (w *throttled) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		rate := w.r.settings().PeerBandwidth
		if rate == 0 { // unlimited: the caller's deadline stands
			n, err := w.s.Write(b)
			return written + n, err
		}
		n := min(len(b), budget.Piece(rate))
		if err := sleep(w.ctx, w.r.budget.Reserve(w.peer, n, rate)); err != nil {
			return written, err
		}
		_ = w.s.SetWriteDeadline(time.Now().Add(writeIdle))
		m, err := w.s.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// idleReader reads a stream with a read deadline renewed on every read,
// up to a hard deadline: a slow but moving transfer (a peer under a
// bandwidth budget) is not cut off, a stalled one is.
type idleReader struct {
	s    network.Stream
	idle time.Duration
	hard time.Time
}

// Read implements io.Reader.
func (r *idleReader) Read(p []byte) (int, error) {
	dl := time.Now().Add(r.idle)
	if dl.After(r.hard) {
		dl = r.hard
	}
	_ = r.s.SetReadDeadline(dl)
	return r.s.Read(p)
}
