package event

import (
	"crypto/rand"

	"github.com/google/uuid"
)

// IDGen issues UUIDv7 event ids that are strictly increasing for one
// generator, even when many are issued in the same millisecond or the clock
// steps back. It is also the node's hybrid logical clock: an id's first 8
// bytes are its HLC (see HLC), Next advances the clock on a local event
// and Observe on an event from elsewhere, so every id it issues is above
// everything it issued or followed. It is not safe for concurrent use: one
// goroutine owns it.
type IDGen struct {
	lastMS  int64
	counter uint16
	buf     [4096]byte
	off     int // next unread byte of buf; len(buf) means empty
	filled  bool
}

// Next returns a new id for an event ingested at epoch millisecond ms.
func (g *IDGen) Next(ms int64) uuid.UUID {
	if ms > g.lastMS {
		g.lastMS, g.counter = ms, 0
	} else {
		g.counter++
		if g.counter > 0x0fff { // counter exhausted: borrow the next millisecond
			g.lastMS++
			g.counter = 0
		}
	}
	return NewID(g.lastMS, g.counter, g.random())
}

func (g *IDGen) random() [8]byte {
	if !g.filled || g.off == len(g.buf) {
		// crypto/rand.Read never returns an error since Go 1.24.
		_, _ = rand.Read(g.buf[:])
		g.off, g.filled = 0, true
	}
	var r [8]byte
	copy(r[:], g.buf[g.off:g.off+8])
	g.off += 8
	return r
}

// Last returns the clock's state: the HLC of the last id issued, or the
// last stamp observed if that is later. The next id is above it.
func (g *IDGen) Last() HLC { return HLC{MS: g.lastMS, Counter: g.counter} }

// Observe advances the clock to h, a stamp seen on an event from
// elsewhere, so that the next id issued is above it, unless h is more than
// maxAhead milliseconds ahead of now, the local physical time: a peer whose
// clock is that far ahead is not followed at all (the clock stays where it
// was) and Observe reports false. A stamp at or below the clock's state
// changes nothing. maxAhead must not be negative; now+maxAhead beyond
// MaxHLCMillis is capped there, so the clock never reaches the end of the
// 48-bit millisecond field.
func (g *IDGen) Observe(h HLC, now, maxAhead int64) (followed bool) {
	limit := min(now, MaxHLCMillis-1) + min(maxAhead, MaxHLCMillis)
	limit = min(limit, MaxHLCMillis-1)
	if h.MS > limit {
		return false
	}
	g.Advance(h)
	return true
}

// Advance moves the clock to h if h is later, with no bound: for stamps
// the node itself issued before (its own log read back after a restart).
// h's counter is taken modulo MaxHLCCounter+1.
func (g *IDGen) Advance(h HLC) {
	h.Counter &= MaxHLCCounter
	if h.Compare(g.Last()) > 0 {
		g.lastMS, g.counter = h.MS, h.Counter
	}
}
