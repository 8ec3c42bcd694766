package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// Zero-filling ahead of the writer. An fdatasync after an append that grows
// a file, or that writes into blocks allocated but never written, must
// commit the file system's journal; on ext4 (data=ordered) that commit
// also waits for every other file's dirty data, such as badger's tables.
// Overwriting blocks that already hold durable zeros changes no metadata,
// so the fdatasync that acknowledges a commit flushes only our own bytes.
// Measured on this project's machines (one 19 KiB record per sync):
// p50 0.33 ms over zeros against 0.6-2.0 ms appending.
//
// The zeros are written in the background, a step at a time, each step
// made durable by its own fdatasync, which grows the file: a commit whose
// fdatasync meets it waits. How often that happens is the commit
// latency's tail, so the step depends on the records being written:
//   - small records while the log serves one commit at a time (the last
//     aloneGroups records each written once every earlier one was durable:
//     latency matters) get 16 MiB steps: with 1 MiB steps one commit in ~45 met
//     an extension and p99 was 10-13x one fdatasync; with 16 MiB it is
//     1.9-2.9x;
//   - other records get 1 MiB steps: under many writers a 16 MiB step's
//     writeback stalled many commits for 40-60 ms (p99 110-230x);
//   - bulk records (bulkRecord and up, a catch-up's megabytes) get none:
//     they amortise the journal commit of an fdatasync that grows the file,
//     while zeros for them would double the bytes written and make the next
//     record wait for the zeros' own fdatasync.
//
// O_DIRECT zeros, which leave no dirty pages, were worse: they fill the
// device queue instead. Commands: see the README's ingest benchmark.
const (
	zeroStep      = 1 << 20
	smallZeroStep = 16 << 20
	smallRecord   = 64 << 10
	zeroChunk     = 1 << 20   // bytes per write of zeros
	bulkRecord    = 256 << 10 // records this large grow the file instead
)

var zeros = make([]byte, zeroChunk)

// zeroAhead tracks how far the current segment is zero-filled and runs at
// most one background extension. Only the writer goroutine calls it.
type zeroAhead struct {
	f        *os.File
	end      int64 // file length: written records or durable zeros up to here
	inflight chan zeroResult
}

type zeroResult struct {
	end int64
	err error
}

// reset starts tracking f, whose length is end.
func (z *zeroAhead) reset(f *os.File, end int64) {
	z.wait()
	z.f, z.end = f, end
}

// reserve is called before a write that ends at end: a write must not race
// the zeros of a running extension, so a write past the known end waits
// for it. A write past the zeros after that simply grows the file.
func (z *zeroAhead) reserve(end int64) {
	if end > z.end {
		z.wait()
	}
}

// wrote records that the file now reaches at least end.
func (z *zeroAhead) wrote(end int64) { z.end = max(z.end, end) }

// stepFor returns the zero step after a record of the given size, written
// while the log serves one commit at a time (lone) or not (see above; 0:
// none).
func stepFor(record int64, lone bool) int64 {
	switch {
	case record >= bulkRecord:
		return 0
	case record < smallRecord && lone:
		return smallZeroStep
	}
	return zeroStep
}

// maybeExtend starts writing step bytes of zeros past the end when the
// writer at pos is within half a step of it, up to limit (the segment
// size). A step of 0 writes none.
func (z *zeroAhead) maybeExtend(pos, limit, step int64) {
	if z.f == nil || z.inflight != nil || z.end >= limit || z.end-pos >= step/2 {
		return
	}
	start, n := z.end, min(step, limit-z.end)
	ch := make(chan zeroResult, 1)
	z.inflight = ch
	go func(f *os.File) {
		err := writeZeros(f, start, n)
		if err == nil {
			err = unix.Fdatasync(int(f.Fd()))
		}
		ch <- zeroResult{start + n, err}
	}(z.f)
}

// wait blocks until a running extension has finished. A failed extension
// only costs speed: later writes grow the file, as without it.
func (z *zeroAhead) wait() {
	if z.inflight == nil {
		return
	}
	r := <-z.inflight
	z.inflight = nil
	if r.err == nil {
		z.end = max(z.end, r.end)
	}
}

// writeZeros overwrites n bytes of f at off with zeros.
func writeZeros(f *os.File, off, n int64) error {
	for n > 0 {
		c := min(n, zeroChunk)
		if _, err := f.WriteAt(zeros[:c], off); err != nil {
			return err
		}
		off += c
		n -= c
	}
	return nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
