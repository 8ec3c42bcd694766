package cas

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// Put reads r to its end and stores it as a blob, returning its CID and size.
// It streams: each chunk is hashed and written as soon as it is read, so about
// one ChunkSize of input is buffered. limit caps the blob size; limit <= 0
// means MaxSize. If r yields more than limit bytes Put reads at most one byte
// past the limit and fails with an error wrapping ErrTooLarge. On any failure
// nothing becomes visible: no root is written and the chunks written by this
// Put that nothing else uses are removed. Putting stored bytes again is cheap
// in writes (blocks are deduplicated) and returns the same CID; it also
// repairs stored copies found corrupt. ctx is checked between chunks.
func (s *Store) Put(ctx context.Context, r io.Reader, limit int64) (cid.Cid, int64, error) {
	if limit <= 0 || limit > MaxSize {
		limit = MaxSize
	}
	if err := ctx.Err(); err != nil {
		return cid.Undef, 0, fmt.Errorf("cas: put: %w", err)
	}
	ch := &chunker{r: io.LimitReader(r, limit+1), buf: make([]byte, ChunkSize)}
	chunk, last, err := ch.next()
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("cas: put: reading: %w", err)
	}
	if last {
		return s.putLeaf(chunk, limit)
	}
	p := &put{s: s}
	c, n, err := p.run(ctx, ch, chunk, limit)
	if err == nil && s.afterRoot != nil {
		s.afterRoot(c)
	}
	p.finish()
	if err != nil {
		return cid.Undef, 0, err
	}
	return c, n, nil
}

// putLeaf stores a blob of at most ChunkSize bytes as one pinned raw block.
func (s *Store) putLeaf(data []byte, limit int64) (cid.Cid, int64, error) {
	if int64(len(data)) > limit {
		return cid.Undef, 0, tooLarge(limit)
	}
	c := Sum(data)
	err := s.update(func(w *wtxn) error {
		if _, err := w.putBlock(c, data); err != nil {
			return err
		}
		return w.pin(c)
	})
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("cas: put %s: %w", c, err)
	}
	return c, int64(len(data)), nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: blob exceeds the limit of %d bytes", ErrTooLarge, limit)
}

// put is one multi-chunk Put in flight.
type put struct {
	s     *Store
	links []cid.Cid // every chunk so far, in order; each is held in s.pending
}

// run stores the chunks, starting with first, then the root.
func (p *put) run(ctx context.Context, ch *chunker, chunk []byte, limit int64) (cid.Cid, int64, error) {
	var size int64
	for last := false; ; {
		size += int64(len(chunk))
		if size > limit {
			return cid.Undef, 0, tooLarge(limit)
		}
		if err := ctx.Err(); err != nil {
			return cid.Undef, 0, fmt.Errorf("cas: put: %w", err)
		}
		if err := p.chunk(chunk); err != nil {
			return cid.Undef, 0, fmt.Errorf("cas: put: chunk %d: %w", len(p.links), err)
		}
		if last {
			break
		}
		var err error
		if chunk, last, err = ch.next(); err != nil {
			return cid.Undef, 0, fmt.Errorf("cas: put: reading: %w", err)
		}
	}
	r := root{size: size, links: p.links}
	block := r.encode()
	c := sumRoot(block)
	if err := p.s.putRoot(c, block, r); err != nil {
		return cid.Undef, 0, fmt.Errorf("cas: put %s: %w", c, err)
	}
	return c, size, nil
}

// chunk stores one chunk and holds it in s.pending until finish.
func (p *put) chunk(data []byte) error {
	c := Sum(data)
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	err := p.s.updateLocked(func(w *wtxn) error {
		_, err := w.putBlock(c, data)
		return err
	})
	if err != nil {
		return err
	}
	p.s.pending[c.KeyString()]++
	p.links = append(p.links, c)
	return nil
}

// finish lets go of the chunks held and removes those that nothing uses any
// more, whether the Put failed (no root links them) or succeeded: a Delete of
// the blob that ran after the root was stored but before finish could not
// remove the chunks this Put still held, so the last holder must. A cleanup
// error is dropped: the chunks stay as unreferenced blocks, which GC removes.
func (p *put) finish() {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var free []cid.Cid // each once: a chunk repeated in links hits zero once
	for _, l := range p.links {
		k := l.KeyString()
		if s.pending[k]--; s.pending[k] <= 0 {
			delete(s.pending, k)
			free = append(free, l)
		}
	}
	_ = s.releaseLocked(free)
}

// chunker cuts a reader into ChunkSize pieces, reading one byte ahead so that
// it knows which piece is the last.
type chunker struct {
	r     io.Reader
	buf   []byte // ChunkSize bytes, reused: a chunk is valid until the next call
	carry [1]byte
	has   bool // carry holds the first byte of the next chunk
}

// next returns the next chunk and whether it is the last. The first call on
// an empty reader returns an empty last chunk.
func (c *chunker) next() ([]byte, bool, error) {
	n := 0
	if c.has {
		c.buf[0], n, c.has = c.carry[0], 1, false
	}
	m, err := io.ReadFull(c.r, c.buf[n:])
	n += m
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return c.buf[:n], true, nil
	}
	if err != nil {
		return nil, false, err
	}
	k, err := io.ReadFull(c.r, c.carry[:])
	switch {
	case k == 1:
		c.has = true
		return c.buf[:n], false, nil
	case errors.Is(err, io.EOF):
		return c.buf[:n], true, nil
	default:
		return nil, false, err
	}
}

// PutBlock stores one block received from a peer. data must hash to c
// (ErrCorrupt otherwise); a raw block must be at most ChunkSize bytes and a
// root block at most MaxRootSize (ErrTooLarge), and a root must decode
// (ErrCorrupt). A raw block that no stored root links to becomes a blob of
// its own. A stored root makes its chunks wanted: Missing lists those absent.
// PutBlock is idempotent and overwrites a stored copy that is corrupt, which
// is how a corrupt block is repaired. data is not retained.
func (s *Store) PutBlock(c cid.Cid, data []byte) error {
	k, err := kindOf(c)
	if err != nil {
		return err
	}
	if k == kindRaw && len(data) > ChunkSize {
		return fmt.Errorf("%w: raw block %s of %d bytes, limit %d", ErrTooLarge, c, len(data), ChunkSize)
	}
	if k == kindRoot && len(data) > MaxRootSize {
		return fmt.Errorf("%w: root block %s of %d bytes, limit %d", ErrTooLarge, c, len(data), MaxRootSize)
	}
	if err := verify(c, data); err != nil {
		return err
	}
	if k == kindRaw {
		return s.update(func(w *wtxn) error {
			if _, err := w.putBlock(c, data); err != nil {
				return err
			}
			if r, err := w.getRef(c); err != nil || r.used() {
				return err
			}
			return w.pin(c)
		})
	}
	r, err := decodeRoot(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	return s.putRoot(c, data, r)
}
