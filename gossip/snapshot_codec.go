package gossip

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// The snapshot protocol (/rumor/<mesh>/snapshot/1). The joiner opens a
// stream and sends a request:
//
//	request = version:byte(1) cutoff:int64 BE          (9 bytes)
//
// where cutoff is the event time (epoch ms) from which the joiner wants
// raw events (0: all the neighbour holds). The neighbour answers with
// frames, kind:byte length:uvarint payload, in this order:
//
//	CONTEXT  its causal context (crdt.Context encoding)          once
//	FLOORS   n:uvarint (len:uvarint seal)*n, origins ascending   any number
//	AGGS     n:uvarint (len:uvarint type window:byte start:varint
//	         len:uvarint agg)*n, keys ascending                  any number
//	DELTA    a sync DELTA payload: contiguous events of one
//	         origin, sealed at the end of a run                  any number
//	END      floors:uvarint aggs:uvarint events:uvarint          once
//
// or an ERROR frame (a short UTF-8 message) at any point. Each kind has a
// size limit checked before anything is allocated; the whole answer is
// bounded by JoinConfig.MaxBytes. See snapshot_recv.go for what the joiner
// checks.
const snapshotVersion = 1

// Snapshot frame kinds.
const (
	snapContext byte = 1 + iota
	snapFloors
	snapAggs
	snapDelta
	snapEnd
	snapError
)

// Limits of the snapshot frames.
const (
	maxSnapContext = 64 << 20 // a CONTEXT payload
	maxSnapChunk   = 1 << 20  // a FLOORS or AGGS payload
	maxSnapEnd     = 3 * 10   // an END payload
	maxSnapError   = 256      // an ERROR message
	snapRequestLen = 1 + 8    // the request
	maxSnapDelta   = syncproto.MaxFrame
)

// ErrBadSnapshot is wrapped by every error about a malformed or invalid
// snapshot.
var ErrBadSnapshot = errors.New("gossip: bad snapshot")

// Snapshot is the state a joining node adopts: a neighbour's causal
// context, the floor below which it will hold no events of each origin
// (a seal, so that it can be verified), and the aggregates over exactly
// that context.
type Snapshot struct {
	Context *crdt.Context
	Floors  []event.Seal // sorted by origin, at most one each
	Aggs    []SnapshotAgg
}

// SnapshotAgg is one aggregate of a snapshot.
type SnapshotAgg struct {
	Key crdt.AggKey
	Agg *crdt.Agg
}

func snapLimit(kind byte) (int, bool) {
	switch kind {
	case snapContext:
		return maxSnapContext, true
	case snapFloors, snapAggs:
		return maxSnapChunk, true
	case snapDelta:
		return maxSnapDelta, true
	case snapEnd:
		return maxSnapEnd, true
	case snapError:
		return maxSnapError, true
	}
	return 0, false
}

// writeSnapFrame writes one frame.
func writeSnapFrame(w io.Writer, kind byte, payload []byte) error {
	limit, ok := snapLimit(kind)
	if !ok || len(payload) > limit {
		return fmt.Errorf("gossip: snapshot frame %d of %d bytes", kind, len(payload))
	}
	hdr := binary.AppendUvarint([]byte{kind}, uint64(len(payload)))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readSnapFrame reads one frame, checking its kind and length before
// allocating, and never allocating much more than what arrived.
func readSnapFrame(r *bufio.Reader) (byte, []byte, error) {
	kind, err := r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, fmt.Errorf("%w: stream ended before END", ErrBadSnapshot)
		}
		return 0, nil, err
	}
	limit, ok := snapLimit(kind)
	if !ok {
		return 0, nil, fmt.Errorf("%w: unknown frame kind %d", ErrBadSnapshot, kind)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: frame length: %v", ErrBadSnapshot, err)
	}
	if n > uint64(limit) {
		return 0, nil, fmt.Errorf("%w: frame kind %d of %d bytes exceeds %d", ErrBadSnapshot, kind, n, limit)
	}
	buf := make([]byte, 0, min(int(n), 64<<10))
	for len(buf) < int(n) {
		chunk := min(int(n)-len(buf), 64<<10)
		buf = append(buf, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, buf[len(buf)-chunk:]); err != nil {
			return 0, nil, fmt.Errorf("%w: frame cut short: %v", ErrBadSnapshot, err)
		}
	}
	return kind, buf, nil
}

// encodeSnapRequest returns the request for events at or after cutoff.
func encodeSnapRequest(cutoffMs int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{snapshotVersion}, uint64(cutoffMs))
}

func decodeSnapRequest(b []byte) (int64, error) {
	if len(b) != snapRequestLen || b[0] != snapshotVersion {
		return 0, fmt.Errorf("%w: bad request", ErrBadSnapshot)
	}
	c := int64(binary.BigEndian.Uint64(b[1:]))
	if c < 0 {
		return 0, fmt.Errorf("%w: negative cutoff", ErrBadSnapshot)
	}
	return c, nil
}

// snapReader decodes the fields of a payload strictly.
type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, a...))
	}
}

func (r *snapReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || k != uvarintLen(v) {
		r.fail("bad %s", what)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *snapReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b)
	if k <= 0 || k != len(binary.AppendVarint(nil, v)) {
		r.fail("bad %s", what)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *snapReader) bytes(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("%s of %d bytes cut short", what, n)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *snapReader) count(min int, what string) int {
	n := r.uvarint(what)
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail("%d %s cannot fit in %d bytes", n, what, len(r.b))
	}
	return int(n)
}

func (r *snapReader) finish() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}

// encodeFloors returns FLOORS payloads of at most maxSnapChunk bytes.
func encodeFloors(floors []event.Seal) [][]byte {
	var out [][]byte
	for len(floors) > 0 {
		var body []byte
		n := 0
		for ; n < len(floors); n++ {
			enc := floors[n].AppendBinary(nil)
			if binary.MaxVarintLen64+len(body)+binary.MaxVarintLen64+len(enc) > maxSnapChunk {
				break
			}
			body = binary.AppendUvarint(body, uint64(len(enc)))
			body = append(body, enc...)
		}
		out = append(out, append(binary.AppendUvarint(nil, uint64(n)), body...))
		floors = floors[n:]
	}
	return out
}

// decodeFloors parses a FLOORS payload; it does not verify signatures.
func decodeFloors(b []byte) ([]event.Seal, error) {
	r := snapReader{b: b}
	n := r.count(2, "floors")
	var out []event.Seal
	for i := 0; i < n && r.err == nil; i++ {
		raw := r.bytes(r.uvarint("seal length"), "seal")
		var s event.Seal
		if r.err == nil {
			if err := s.UnmarshalBinary(raw); err != nil {
				r.fail("floor seal %d: %v", i, err)
			}
		}
		out = append(out, s)
	}
	return out, r.finish()
}

// encodeAggs returns AGGS payloads of at most maxSnapChunk bytes.
func encodeAggs(aggs []SnapshotAgg) ([][]byte, error) {
	var out [][]byte
	for len(aggs) > 0 {
		var body []byte
		n := 0
		for ; n < len(aggs); n++ {
			a := aggs[n]
			enc, err := a.Agg.MarshalBinary()
			if err != nil {
				return nil, err
			}
			e := binary.AppendUvarint(nil, uint64(len(a.Key.Type)))
			e = append(e, a.Key.Type...)
			e = append(e, byte(a.Key.Window))
			e = binary.AppendVarint(e, a.Key.Start)
			e = binary.AppendUvarint(e, uint64(len(enc)))
			e = append(e, enc...)
			if binary.MaxVarintLen64+len(body)+len(e) > maxSnapChunk {
				if n == 0 {
					return nil, fmt.Errorf("gossip: aggregate %v of %d bytes", a.Key, len(e))
				}
				break
			}
			body = append(body, e...)
		}
		out = append(out, append(binary.AppendUvarint(nil, uint64(n)), body...))
		aggs = aggs[n:]
	}
	return out, nil
}

// decodeAggs parses an AGGS payload, checking every key and aggregate.
func decodeAggs(b []byte) ([]SnapshotAgg, error) {
	r := snapReader{b: b}
	n := r.count(4, "aggregates")
	var out []SnapshotAgg
	for i := 0; i < n && r.err == nil; i++ {
		tl := r.uvarint("type length")
		if r.err == nil && (tl == 0 || tl > event.MaxTypeLen) {
			r.fail("aggregate type of %d bytes", tl)
		}
		typ := string(r.bytes(tl, "type"))
		w := crdt.Window(0)
		if raw := r.bytes(1, "window"); r.err == nil {
			w = crdt.Window(raw[0])
		}
		start := r.varint("start")
		raw := r.bytes(r.uvarint("aggregate length"), "aggregate")
		if r.err != nil {
			break
		}
		if !w.Valid() || start == math.MinInt64 || w.Start(start) != start {
			r.fail("aggregate window %d starting at %d", w, start)
			break
		}
		agg := crdt.NewAgg()
		if err := agg.UnmarshalBinary(raw); err != nil {
			r.fail("aggregate %d: %v", i, err)
			break
		}
		out = append(out, SnapshotAgg{Key: crdt.AggKey{Type: typ, Window: w, Start: start}, Agg: agg})
	}
	return out, r.finish()
}

// snapEndCounts is the END frame: what the answer held.
type snapEndCounts struct{ floors, aggs, events uint64 }

func (c snapEndCounts) encode() []byte {
	b := binary.AppendUvarint(nil, c.floors)
	b = binary.AppendUvarint(b, c.aggs)
	return binary.AppendUvarint(b, c.events)
}

func decodeEnd(b []byte) (snapEndCounts, error) {
	r := snapReader{b: b}
	c := snapEndCounts{floors: r.uvarint("floor count"), aggs: r.uvarint("aggregate count"), events: r.uvarint("event count")}
	return c, r.finish()
}
