package cas

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Open returns a reader of the whole blob c and its size. The root block (if
// any) is read and verified by Open, which fails with ErrNotFound unless every
// chunk is present. The content is streamed one chunk at a time, each checked
// against its CID when loaded: a corrupt chunk makes Read fail with an error
// wrapping ErrCorrupt, and a chunk deleted meanwhile with ErrNotFound. Read
// stops with ctx's error once ctx is done. The reader holds no transaction
// between calls and must be closed; it is not safe for concurrent use.
func (s *Store) Open(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error) {
	k, err := kindOf(c)
	if err != nil {
		return nil, 0, err
	}
	br := &blobReader{ctx: ctx, s: s}
	err = s.db.View(func(txn *badger.Txn) error {
		if k == kindRaw {
			br.links = []cid.Cid{c}
			br.size, err = s.stat(txn, c, kindRaw)
			return err
		}
		r, err := s.readRoot(txn, c)
		if err != nil {
			return err
		}
		missing, err := s.absent(txn, r.links, s.hasBlock) // chunks are verified as they are read
		if err == nil && len(missing) > 0 {
			err = fmt.Errorf("%w: blob %s lacks %d of %d chunks", ErrNotFound, c, len(missing), len(r.links))
		}
		br.links, br.size = r.links, r.size
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("cas: open: %w", err)
	}
	return br, br.size, nil
}

// blobReader streams a blob chunk by chunk.
type blobReader struct {
	ctx   context.Context
	s     *Store
	links []cid.Cid
	size  int64
	next  int    // index of the next chunk to load
	buf   []byte // the current chunk, verified
	off   int    // read position in buf
	err   error  // sticky: io.EOF, fs.ErrClosed or a failure
}

// Read implements io.Reader.
func (r *blobReader) Read(p []byte) (int, error) {
	for r.off == len(r.buf) {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// WriteTo implements io.WriterTo, saving io.Copy a buffer copy.
func (r *blobReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if r.off < len(r.buf) {
			n, err := w.Write(r.buf[r.off:])
			r.off += n
			total += int64(n)
			if err != nil {
				return total, err
			}
			continue
		}
		if err := r.load(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
	}
}

// load replaces the exhausted buffer with the next chunk.
func (r *blobReader) load() error {
	if r.err != nil {
		return r.err
	}
	if r.next == len(r.links) {
		r.err = io.EOF
		return r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("cas: read: %w", err)
		return r.err
	}
	i, l := r.next, r.links[r.next]
	if r.buf == nil {
		r.buf = make([]byte, 0, chunkLen(r.size, 0))
	}
	err := r.s.db.View(func(txn *badger.Txn) (err error) {
		r.buf, err = r.s.readBlock(txn, l, r.buf)
		return err
	})
	if err == nil && len(r.buf) != chunkLen(r.size, i) {
		err = fmt.Errorf("%w: chunk %d (%s) has %d bytes, want %d", ErrCorrupt, i, l, len(r.buf), chunkLen(r.size, i))
	}
	if err != nil {
		r.buf, r.off = r.buf[:0], 0
		r.err = fmt.Errorf("cas: read chunk %d: %w", i, err)
		return r.err
	}
	r.next, r.off = i+1, 0
	return nil
}

// Close releases the buffer; later reads fail with fs.ErrClosed.
func (r *blobReader) Close() error {
	r.buf, r.off, r.err = nil, 0, fs.ErrClosed
	return nil
}
