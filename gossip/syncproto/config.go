package syncproto

import (
	"fmt"

	"github.com/rumor-sync/rumor/event"
)

// Defaults of SessionConfig.
const (
	DefaultMaxBatchBytes   = 1 << 20  // 1 MiB of events per DELTA
	DefaultRunBytes        = 4 << 20  // 4 MiB per sealed run
	DefaultWindow          = 4        // unacknowledged DELTA frames
	DefaultMaxPendingBytes = 64 << 20 // 64 MiB of buffered unsealed run
	DefaultIdleTicks       = 30       // ticks without progress
	maxBatchLimit          = 8 << 20  // so that a frame always fits MaxFrame
)

// SessionConfig tunes a Session. A zero field takes its default.
type SessionConfig struct {
	// Schema is this replica's schema version, sent in HELLO. Default
	// event.DefaultSchema (1).
	Schema uint32
	// MaxSchema is the highest schema version accepted in the peer's HELLO.
	// Default: Schema.
	MaxSchema uint32
	// MaxBatchBytes bounds the canonical-encoding bytes of the events in one
	// DELTA frame (a single larger event still goes alone). Default 1 MiB,
	// at most 8 MiB.
	MaxBatchBytes int
	// RunBytes is the size in bytes after which the sender ends a sealed run
	// at the next held seal. Smaller runs cost one seal (about 160 bytes)
	// each and bound what the receiver buffers. A session's first run ends
	// after MaxBatchBytes and each next one after twice the last, up to
	// RunBytes: the receiver applies nothing of a run before its seal.
	// Default 4 MiB, at most MaxPendingBytes/2.
	RunBytes int
	// Window is the most DELTA frames the sender has unacknowledged: the
	// backpressure the receiver exerts by delaying ACKs until its applies are
	// durable. Window × (RunBytes + MaxBatchBytes) must not exceed
	// MaxPendingBytes, which should be the same across a mesh, so that the
	// receiver never buffers more than it accepts. Default 4.
	Window int
	// MaxPendingBytes bounds, in DELTA payload bytes, what a receiver
	// buffers: the unsealed run waiting for its seal plus the verified runs
	// waiting for Applied. A peer that goes beyond it breaks the protocol
	// (an honest one with the default Window and RunBytes stays far below).
	// Default 64 MiB.
	MaxPendingBytes int
	// IdleTicks is how many consecutive Tick calls without a message or an
	// Applied make the session fail with ErrTimeout. Default 30.
	IdleTicks int
	// Version is the protocol version of the session, agreed with the peer
	// by the transport (the highest both speak). Default Version (the
	// newest). In version 1 redacted events cannot travel: the sender sends
	// each origin's events up to the last held seal before a redacted one,
	// skips the rest up to and including it, and continues after it (the
	// peer gets those events from a version 2 peer, or once it upgrades);
	// Result.Withheld counts them.
	Version uint8
}

// DefaultSessionConfig returns the defaults.
func DefaultSessionConfig() SessionConfig {
	return SessionConfig{
		Schema: event.DefaultSchema, MaxSchema: event.DefaultSchema,
		MaxBatchBytes: DefaultMaxBatchBytes, RunBytes: DefaultRunBytes, Window: DefaultWindow,
		MaxPendingBytes: DefaultMaxPendingBytes, IdleTicks: DefaultIdleTicks, Version: Version,
	}
}

// withDefaults returns c with zero fields set to their defaults.
func (c SessionConfig) withDefaults() SessionConfig {
	d := DefaultSessionConfig()
	if c.Schema == 0 {
		c.Schema = d.Schema
	}
	if c.MaxSchema == 0 {
		c.MaxSchema = c.Schema
	}
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.MaxBatchBytes, d.MaxBatchBytes)
	set(&c.RunBytes, d.RunBytes)
	set(&c.Window, d.Window)
	set(&c.MaxPendingBytes, d.MaxPendingBytes)
	set(&c.IdleTicks, d.IdleTicks)
	if c.Version == 0 {
		c.Version = Version
	}
	return c
}

// Validate reports whether c, with defaults applied to its zero fields, is
// usable.
func (c SessionConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.MaxBatchBytes < 0 || c.MaxBatchBytes > maxBatchLimit:
		return fmt.Errorf("syncproto: MaxBatchBytes %d outside [1, %d]", c.MaxBatchBytes, maxBatchLimit)
	case c.MaxPendingBytes < 0:
		return fmt.Errorf("syncproto: negative MaxPendingBytes %d", c.MaxPendingBytes)
	case c.RunBytes < 0 || c.RunBytes > c.MaxPendingBytes/2:
		return fmt.Errorf("syncproto: RunBytes %d outside [1, MaxPendingBytes/2 = %d]", c.RunBytes, c.MaxPendingBytes/2)
	case c.Window < 0 || c.Window > 1024:
		return fmt.Errorf("syncproto: Window %d outside [1, 1024]", c.Window)
	case c.Window*(c.RunBytes+c.MaxBatchBytes) > c.MaxPendingBytes:
		return fmt.Errorf("syncproto: Window × (RunBytes + MaxBatchBytes) = %d exceeds MaxPendingBytes %d",
			c.Window*(c.RunBytes+c.MaxBatchBytes), c.MaxPendingBytes)
	case c.IdleTicks < 0:
		return fmt.Errorf("syncproto: negative IdleTicks %d", c.IdleTicks)
	case c.Version < MinVersion || c.Version > Version:
		return fmt.Errorf("syncproto: Version %d outside [%d, %d]", c.Version, MinVersion, Version)
	}
	return nil
}
