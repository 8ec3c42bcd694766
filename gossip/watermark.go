package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/rumor-sync/rumor/event"
)

// A sink's archived watermark travels on the mesh's watermark topic as
// one or more messages, each a page of (origin, seq) entries:
//
//	message = version:byte(1) n:uvarint (len:uvarint origin:len seq:uvarint)*n
//
// with origins strictly ascending, 1 to event.MaxDeviceLen bytes, seqs at
// least 1, and the whole at most MaxWatermarkBytes. Each entry says the
// sink has archived the origin's events 1..seq durably. Pages are
// independent: the receiver keeps, per sink and origin, the highest seq
// it was told, so any subset of the entries is a valid message.

const watermarkVersion = 1

// MaxWatermarkBytes bounds one watermark message.
const MaxWatermarkBytes = 256 << 10

// ErrBadWatermark is wrapped by every watermark decoding error.
var ErrBadWatermark = errors.New("gossip: malformed watermark message")

// encodeWatermarks returns wm as pages of at most MaxWatermarkBytes;
// entries at 0 are left out.
func encodeWatermarks(wm map[string]uint64) [][]byte {
	origins := make([]string, 0, len(wm))
	for o, seq := range wm {
		if seq > 0 && len(o) > 0 && len(o) <= event.MaxDeviceLen {
			origins = append(origins, o)
		}
	}
	slices.Sort(origins)
	var pages [][]byte
	for len(origins) > 0 {
		var body []byte
		n := 0
		for n < len(origins) {
			e := binary.AppendUvarint(nil, uint64(len(origins[n])))
			e = append(e, origins[n]...)
			e = binary.AppendUvarint(e, wm[origins[n]])
			if 1+binary.MaxVarintLen64+len(body)+len(e) > MaxWatermarkBytes {
				break
			}
			body = append(body, e...)
			n++
		}
		page := binary.AppendUvarint([]byte{watermarkVersion}, uint64(n))
		pages = append(pages, append(page, body...))
		origins = origins[n:]
	}
	return pages
}

// decodeWatermarks parses and validates one page.
func decodeWatermarks(b []byte) (map[string]uint64, error) {
	if len(b) > MaxWatermarkBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadWatermark, len(b))
	}
	if len(b) == 0 || b[0] != watermarkVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrBadWatermark)
	}
	rest := b[1:]
	uvarint := func(what string) (uint64, error) {
		v, k := binary.Uvarint(rest)
		if k <= 0 || k != uvarintLen(v) {
			return 0, fmt.Errorf("%w: bad %s", ErrBadWatermark, what)
		}
		rest = rest[k:]
		return v, nil
	}
	n, err := uvarint("count")
	if err != nil {
		return nil, err
	}
	if n > uint64(len(rest)/3) { // an entry takes at least 3 bytes
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrBadWatermark, n, len(rest))
	}
	out := make(map[string]uint64, n)
	prev := ""
	for i := uint64(0); i < n; i++ {
		l, err := uvarint("origin length")
		if err != nil {
			return nil, err
		}
		if l == 0 || l > event.MaxDeviceLen || l > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: origin of %d bytes", ErrBadWatermark, l)
		}
		origin := string(rest[:l])
		rest = rest[l:]
		if i > 0 && origin <= prev {
			return nil, fmt.Errorf("%w: origins not strictly ascending", ErrBadWatermark)
		}
		seq, err := uvarint("seq")
		if err != nil {
			return nil, err
		}
		if seq == 0 {
			return nil, fmt.Errorf("%w: seq 0 for %q", ErrBadWatermark, origin)
		}
		out[origin], prev = seq, origin
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadWatermark, len(rest))
	}
	return out, nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
