package event

import (
	"crypto/rand"

	"github.com/google/uuid"
)

// IDGen issues UUIDv7 event ids that are strictly increasing for one
// generator, even when many are issued in the same millisecond or the clock
// steps back. It is not safe for concurrent use: one goroutine owns it.
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
