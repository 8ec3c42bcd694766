package store

import (
	"encoding/binary"
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
)

// maxRun caps the events one index entry covers, so that locating one
// event costs a short walk over its run's lengths.
const maxRun = 256

// location is where an event's canonical encoding lives.
type location struct {
	segment uint32
	offset  int64 // of the encoding, past its length prefix
	length  uint32
}

// run is one index entry: consecutive seqs of one origin whose encodings
// follow each other in one record, each behind its uvarint length prefix.
// Indexing runs instead of single events keeps badger's work per event to
// the event_id key alone.
type run struct {
	first    uint64   // seq of the first event
	segment  uint32   // segment file
	offset   int64    // offset of the first encoding
	received int64    // when the run became durable here, epoch ms (see ScanReceived)
	lengths  []uint32 // encoding length of each event, in seq order
}

func (r *run) last() uint64 { return r.first + uint64(len(r.lengths)) - 1 }

// locate returns where the event at seq (within the run) lives.
func (r *run) locate(seq uint64) location {
	off := r.offset
	i := int(seq - r.first)
	for j := 0; j < i; j++ {
		off += int64(r.lengths[j]) + int64(uvarintLen(uint64(r.lengths[j+1])))
	}
	return location{segment: r.segment, offset: off, length: r.lengths[i]}
}

// encode returns the run's index value (format version 2): segment (4
// bytes), offset (8), received (8, epoch ms), the event count and each
// encoding length (uvarints). Version 1 lacked received (see migrate.go).
func (r *run) encode() []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 24+2*len(r.lengths)), r.segment)
	b = binary.BigEndian.AppendUint64(b, uint64(r.offset))
	b = binary.BigEndian.AppendUint64(b, uint64(r.received))
	b = binary.AppendUvarint(b, uint64(len(r.lengths)))
	for _, l := range r.lengths {
		b = binary.AppendUvarint(b, uint64(l))
	}
	return b
}

func decodeRun(first uint64, b []byte) (run, error) {
	if len(b) < 21 {
		return run{first: first}, fmt.Errorf("store: corrupt run entry of %d bytes", len(b))
	}
	r, err := decodeRunLengths(first, b[:12], b[20:])
	r.received = int64(binary.BigEndian.Uint64(b[12:]))
	return r, err
}

// decodeRunLengths decodes a run from its 12-byte location head and its
// count and lengths, the parts formats 1 and 2 share.
func decodeRunLengths(first uint64, head, b []byte) (run, error) {
	r := run{first: first}
	r.segment = binary.BigEndian.Uint32(head)
	r.offset = int64(binary.BigEndian.Uint64(head[4:]))
	n, k := binary.Uvarint(b)
	if k <= 0 || k != uvarintLen(n) || n == 0 || n > maxRun {
		return r, fmt.Errorf("store: corrupt run length")
	}
	b = b[k:]
	r.lengths = make([]uint32, n)
	for i := range r.lengths {
		l, k := binary.Uvarint(b)
		if k <= 0 || k != uvarintLen(l) || l > 1<<32-1 {
			return r, fmt.Errorf("store: corrupt run entry %d", i)
		}
		r.lengths[i], b = uint32(l), b[k:]
	}
	if len(b) != 0 {
		return r, fmt.Errorf("store: %d trailing bytes in run entry", len(b))
	}
	return r, nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// runBuilder groups consecutive record entries into runs as they are
// indexed.
type runBuilder struct {
	origin string
	cur    run
	prev   location // the previous entry added to cur
	open   bool
}

// add tries to extend the current run with the event at d, stored at loc
// and received (durable) at received. It returns the finished run (and its
// origin) when d cannot extend it.
func (b *runBuilder) add(d crdt.Dot, loc location, received int64) (string, run, bool) {
	if b.open && d.Origin == b.origin && d.Seq == b.cur.last()+1 && len(b.cur.lengths) < maxRun &&
		loc.segment == b.cur.segment && loc.offset == b.prev.offset+int64(b.prev.length)+int64(uvarintLen(uint64(loc.length))) {
		b.cur.lengths = append(b.cur.lengths, loc.length)
		b.prev = loc
		return "", run{}, false
	}
	origin, done, ok := b.flush()
	b.origin, b.prev, b.open = d.Origin, loc, true
	b.cur = run{first: d.Seq, segment: loc.segment, offset: loc.offset, received: received, lengths: []uint32{loc.length}}
	return origin, done, ok
}

// flush ends the current run, if any, and returns it.
func (b *runBuilder) flush() (string, run, bool) {
	if !b.open {
		return "", run{}, false
	}
	b.open = false
	return b.origin, b.cur, true
}
