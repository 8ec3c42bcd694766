package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unsafe"

	"github.com/rumor-sync/rumor/event"
)

// Record kinds: the first byte of a record payload.
const (
	recordEvents = 1 // u32 n, n × (uvarint len, event encoding), uvarint m, m × (uvarint len, seal)
)

// recordBuilder assembles one record payload and remembers where each event
// encoding starts within it.
//
// Its buffer lies at the record's phase within a page-aligned block: a
// record written at a file offset of that phase (mod directPage) has its
// whole pages at page-aligned addresses, which a direct write takes as
// they are instead of copying them (direct.go).
type recordBuilder struct {
	buf     []byte
	phase   int    // offset of buf[0] in its page
	back    []byte // the page-aligned block buf lies in, from its start
	offsets []int  // offset of each event encoding in buf
	lengths []int
	count   int
	scratch []byte
}

// reset starts a new record, to be written at a file offset whose
// remainder modulo directPage is phase. Its frame header (see framed) and
// event count (see finish) are written at the end, so the buffer starts
// with room for them: header, kind byte, reserved 4-byte count, then the
// events.
func (r *recordBuilder) reset(phase int) {
	const head = frameHeader + 5
	if cap(r.back) < phase+head {
		r.back = pageAligned(max(2*cap(r.back), phase+head+directPage))
	}
	r.phase = phase
	r.buf = r.back[phase : phase+head]
	clear(r.buf[:frameHeader])
	r.buf[frameHeader] = recordEvents
	clear(r.buf[frameHeader+1:])
	r.offsets, r.lengths, r.count = r.offsets[:0], r.lengths[:0], 0
}

// reserve makes room for n more bytes of events, so that a large group is
// built without growing the buffer step by step (growing by append would
// lose the buffer's phase: it stays correct, only its direct write copies).
func (r *recordBuilder) reserve(n int) {
	if cap(r.buf)-len(r.buf) < n {
		// A quarter more than needed: groups of similar size (a catch-up's
		// runs) then reuse the block instead of each slightly larger one
		// allocating and zeroing a new one.
		need := r.phase + len(r.buf) + n
		back := pageAligned(need + need/4)
		r.buf = append(back[r.phase:r.phase], r.buf...)
		r.back = back
	}
}

// pageAligned returns a zeroed slice of n bytes (capacity n) starting at a
// page-aligned address.
func pageAligned(n int) []byte {
	b := make([]byte, n+directPage)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directPage - 1))
	return b[skip : skip+n : skip+n]
}

// framed returns the finished record with its frame header filled in, the
// bytes to append to the log, without copying the payload.
func (r *recordBuilder) framed() []byte {
	payload := r.buf[frameHeader:]
	binary.BigEndian.PutUint32(r.buf[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(r.buf[4:8], crc32.Checksum(payload, crcTable))
	return r.buf
}

// addEvent appends e's canonical encoding and, when hash is set, returns
// e's hash (the chain head for local events; received events were hashed
// when they were verified).
func (r *recordBuilder) addEvent(e *event.Event, hash bool) event.Hash {
	r.scratch = e.AppendBinary(r.scratch[:0])
	return r.addEncoded(e, r.scratch, hash)
}

// addEncoded is addEvent for an event whose canonical encoding enc is
// already known.
func (r *recordBuilder) addEncoded(e *event.Event, enc []byte, hash bool) event.Hash {
	r.buf = binary.AppendUvarint(r.buf, uint64(len(enc)))
	r.offsets = append(r.offsets, len(r.buf)-frameHeader)
	r.lengths = append(r.lengths, len(enc))
	r.buf = append(r.buf, enc...)
	r.count++
	switch {
	case !hash:
		return event.Hash{}
	case e.Redaction != nil: // a redacted event keeps the original's hash
		return e.Redaction.Hash
	}
	return sha256.Sum256(enc)
}

// finish writes the event count, appends the seals and returns the payload.
func (r *recordBuilder) finish(seals []event.Seal) []byte {
	binary.BigEndian.PutUint32(r.buf[frameHeader+1:frameHeader+5], uint32(r.count))
	r.buf = binary.AppendUvarint(r.buf, uint64(len(seals)))
	for i := range seals {
		enc := seals[i].AppendBinary(nil)
		r.buf = binary.AppendUvarint(r.buf, uint64(len(enc)))
		r.buf = append(r.buf, enc...)
	}
	return r.buf[frameHeader:]
}

// parsedRecord is a decoded record payload.
type parsedRecord struct {
	events  []*event.Event
	offsets []int // offset of each encoding within the payload
	lengths []int
	seals   []event.Seal
}

// parseRecord decodes a record payload, validating every event.
func parseRecord(p []byte) (*parsedRecord, error) {
	if len(p) == 0 || p[0] != recordEvents {
		return nil, fmt.Errorf("store: unknown record kind")
	}
	off := 1
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(p[off:])
		if k <= 0 || n > uint64(len(p)-off-k) {
			return nil, fmt.Errorf("store: corrupt record at %d", off)
		}
		off += k
		b := p[off : off+int(n)]
		off += int(n)
		return b, nil
	}
	if len(p) < 5 {
		return nil, fmt.Errorf("store: record too short")
	}
	count := uint64(binary.BigEndian.Uint32(p[1:5]))
	off = 5
	rec := &parsedRecord{}
	for i := uint64(0); i < count; i++ {
		b, err := next()
		if err != nil {
			return nil, err
		}
		e, err := event.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("store: record event %d: %w", i, err)
		}
		rec.events = append(rec.events, e)
		rec.offsets = append(rec.offsets, off-len(b))
		rec.lengths = append(rec.lengths, len(b))
	}
	nseals, k := binary.Uvarint(p[off:])
	if k <= 0 || nseals > uint64(len(p)) {
		return nil, fmt.Errorf("store: corrupt record seal count")
	}
	off += k
	for i := uint64(0); i < nseals; i++ {
		b, err := next()
		if err != nil {
			return nil, err
		}
		var s event.Seal
		if err := s.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("store: record seal %d: %w", i, err)
		}
		rec.seals = append(rec.seals, s)
	}
	if off != len(p) {
		return nil, fmt.Errorf("store: %d trailing bytes in record", len(p)-off)
	}
	return rec, nil
}
