package api

import (
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// Cursors of the time-ordered view. A cursor is opaque to clients: the
// unpadded base64url of a version byte, the 8 HLC bytes an event id
// starts with, the seq (uvarint) and the device id, naming the position
// of the last event of a page.
const (
	cursorVersion = 1
	// MaxCursorLen bounds a cursor's text; the longest valid one is far
	// shorter.
	MaxCursorLen = 256
)

var errBadCursor = errors.New("parameter cursor: not a valid cursor (pass a page's Rumor-Next-Cursor back unchanged)")

// encodeCursor returns the cursor of position p.
func encodeCursor(p store.TimePos) string {
	h := p.HLC.Bytes()
	b := make([]byte, 0, 1+8+binary.MaxVarintLen64+len(p.Device))
	b = append(b, cursorVersion)
	b = append(b, h[:]...)
	b = binary.AppendUvarint(b, p.Seq)
	b = append(b, p.Device...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor strictly: only the exact text encodeCursor
// writes for a valid position is accepted.
func decodeCursor(s string) (store.TimePos, error) {
	if len(s) == 0 || len(s) > MaxCursorLen {
		return store.TimePos{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 1+8+1+1 || b[0] != cursorVersion || b[7]>>4 != 7 {
		return store.TimePos{}, errBadCursor
	}
	hb := binary.BigEndian.Uint64(b[1:9])
	h := event.HLC{MS: int64(hb >> 16), Counter: uint16(hb & event.MaxHLCCounter)}
	seq, n := binary.Uvarint(b[9:])
	if n <= 0 || seq == 0 {
		return store.TimePos{}, errBadCursor
	}
	device := string(b[9+n:])
	if len(device) > event.MaxDeviceLen {
		return store.TimePos{}, errBadCursor
	}
	if id, err := peer.Decode(device); err != nil || id.String() != device {
		return store.TimePos{}, errBadCursor
	}
	p := store.TimePos{HLC: h, Device: device, Seq: seq}
	if encodeCursor(p) != s { // non-minimal varint, stray bits
		return store.TimePos{}, errBadCursor
	}
	return p, nil
}
