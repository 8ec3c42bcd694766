package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ipfs/go-cid"
)

// ErrBlobMissing is wrapped when an event's blob is neither held here nor
// fetched from a peer in time: the events from that one on wait.
var ErrBlobMissing = errors.New("sink: blob not available")

// BlobKey returns the key of blob c in the bucket: blobs/<cid>.
func BlobKey(c cid.Cid) string { return BlobsPrefix + c.String() }

// archiveBlobs makes every blob b's rows reference durable in the bucket,
// in row order. It returns how many rows (from the first) have all their
// blobs archived, and the failure that stopped it, if any.
func (a *Archiver) archiveBlobs(ctx context.Context, b *batch) (int, error) {
	for i := range b.rows {
		for _, c := range b.blobs[i] {
			if err := a.archiveBlob(ctx, c); err != nil {
				return i, err
			}
		}
	}
	return len(b.rows), nil
}

// archiveBlob copies blob c to the bucket unless it is there already. A
// blob not held here is first fetched with Config.Fetch, for at most
// Config.BlobWait.
func (a *Archiver) archiveBlob(ctx context.Context, c cid.Cid) error {
	key := BlobKey(c)
	a.blobMu.Lock()
	_, done := a.blobsDone[key]
	a.blobMu.Unlock()
	if done {
		return nil
	}
	ok, err := a.cfg.Bucket.Exists(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		if err := a.fetchBlob(ctx, c); err != nil {
			return err
		}
		spool, size, err := a.spoolBlob(ctx, c)
		if err != nil {
			return err
		}
		err = a.cfg.Bucket.Put(ctx, key, "application/octet-stream", spool)
		spool.Close()
		os.Remove(spool.Name())
		if err != nil {
			a.uploadFailed()
			return err
		}
		if a.cfg.Observer != nil {
			a.cfg.Observer.BlobArchived(size)
		}
	}
	a.blobMu.Lock()
	if len(a.blobsDone) >= maxBlobsDone {
		clear(a.blobsDone)
	}
	a.blobsDone[key] = struct{}{}
	a.blobMu.Unlock()
	return nil
}

// fetchBlob makes blob c whole here, fetching it from peers if needed.
func (a *Archiver) fetchBlob(ctx context.Context, c cid.Cid) error {
	has, err := a.cfg.Blobs.Has(c)
	if err != nil || has {
		return err
	}
	if a.cfg.Fetch == nil {
		return fmt.Errorf("%w: %s is not held here", ErrBlobMissing, c)
	}
	fctx, cancel := context.WithTimeout(ctx, a.cfg.BlobWait)
	defer cancel()
	if err := a.cfg.Fetch(fctx, c); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBlobMissing, c, err)
	}
	if has, err := a.cfg.Blobs.Has(c); err != nil || !has {
		return fmt.Errorf("%w: %s: still missing after fetching", ErrBlobMissing, c)
	}
	return nil
}

// spoolBlob copies blob c, verified as it is read, into a temporary file
// (the bucket's Put needs to read a body twice) and returns it open.
func (a *Archiver) spoolBlob(ctx context.Context, c cid.Cid) (*os.File, int64, error) {
	r, _, err := a.cfg.Blobs.Open(ctx, c)
	if err != nil {
		return nil, 0, fmt.Errorf("sink: open blob %s: %w", c, err)
	}
	defer r.Close()
	f, err := os.CreateTemp(a.cfg.TempDir, "blob-*.spool")
	if err != nil {
		return nil, 0, fmt.Errorf("sink: spool blob %s: %w", c, err)
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, fmt.Errorf("sink: spool blob %s: %w", c, err)
	}
	return f, n, nil
}
