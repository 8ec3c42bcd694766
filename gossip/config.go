package gossip

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/gossip/syncproto"
	"github.com/rumor-sync/rumor/internal/clock"
)

// Config configures a Replicator.
type Config struct {
	// Mesh is the started mesh (host, membership). Required.
	Mesh *mesh.Mesh
	// Store is the node's replica. Required.
	Store Store
	// Blobs is the node's blob store. Required.
	Blobs Blobs
	// Policy holds the live sync switches (push, interval, fan-out, blob
	// policy, batch sizes, bandwidth budget per peer), read on every round,
	// session, announcement and blob fetch. Its limits must match Session
	// and Tick. If nil, New makes one from Interval, InlineBytes,
	// EagerBlobs and Session's batch sizes, which are otherwise ignored.
	Policy *policy.Holder
	// Sink marks a sink node: under policy.SinksOnly, only sinks fetch
	// blobs eagerly.
	Sink bool
	// Interval is the mean time between anti-entropy rounds this node
	// starts; each wait is drawn uniformly from [Interval/2, 3*Interval/2].
	// Default 1 s. See Policy.
	Interval time.Duration
	// Tick is the session tick; a session fails after
	// Session.IdleTicks ticks without progress. Default 500 ms.
	Tick time.Duration
	// Session tunes the sync protocol. Zero fields take syncproto's
	// defaults; Session.Version is ignored (see MaxProtocol).
	Session syncproto.SessionConfig
	// MaxProtocol is the newest sync protocol version this node speaks:
	// it offers every version from syncproto.MinVersion up to it, and each
	// session runs in the highest version both peers speak. Default 0, the
	// newest (syncproto.Version); 1 pins the node to version 1, as a node of
	// the previous release would be.
	MaxProtocol uint8
	// BackoffMin and BackoffMax bound the per-peer backoff after a failed
	// session (doubling, with jitter). Defaults 1 s and 1 min.
	BackoffMin, BackoffMax time.Duration
	// MaxStrikes is how many protocol violations from one peer lead to a
	// ban of BanDuration. Defaults 3 and 10 min.
	MaxStrikes  int
	BanDuration time.Duration
	// InlineBytes bounds the events carried inline in a push announcement;
	// larger batches are announced by their seal alone. Default 64 KiB.
	// See Policy.
	InlineBytes int
	// EagerBlobs makes the node fetch, in the background, the blobs that
	// newly received events reference (the default); when false, blobs are
	// fetched only when asked for. See Policy.
	EagerBlobs bool
	// Clock gives the time for health and backoff. Default the wall clock.
	Clock clock.Clock
	// Logger receives logs. Default slog.Default().
	Logger *slog.Logger
	// CheckEvent, if set, must accept every event received from a peer
	// before it is applied (the schema registry). In a verified sealed run
	// with events it refuses, the last refused event and all before it
	// are not applied (only the events after it are covered by the run's
	// seal); each is counted as a RejectSchema rejection of the sending
	// peer (not a protocol violation) and the session goes on. They stay
	// missing here, offered again by later sessions, until CheckEvent
	// accepts them.
	CheckEvent func(e *event.Event) error
	// Observer, if set, is told about sessions and rejections (metrics).
	Observer Observer

	// Watermarks, set on a sink only, returns its archived watermark:
	// per origin the highest seq archived durably, contiguous from 1. The
	// replicator publishes it on the mesh every WatermarkInterval.
	Watermarks func() map[string]uint64
	// WatermarkStore, if set, keeps the watermarks learnt from sinks
	// across restarts.
	WatermarkStore WatermarkStore
	// WatermarkInterval is how often a sink publishes its watermark.
	// Default 5 s.
	WatermarkInterval time.Duration
	// Snapshots, if set, serves snapshots to joining nodes (see Join).
	Snapshots SnapshotSource
}

// DefaultConfig returns the documented defaults; Mesh, Store and Blobs
// must still be set.
func DefaultConfig() Config {
	return Config{
		Interval: time.Second, Tick: 500 * time.Millisecond,
		Session:    syncproto.DefaultSessionConfig(),
		BackoffMin: time.Second, BackoffMax: time.Minute,
		MaxStrikes: 3, BanDuration: 10 * time.Minute,
		InlineBytes: 64 << 10, EagerBlobs: true,
		Clock: clock.Real{}, WatermarkInterval: 5 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Mesh == nil || c.Store == nil || c.Blobs == nil:
		return errors.New("gossip: Mesh, Store and Blobs are required")
	case c.Interval <= 0 || c.Tick <= 0:
		return errors.New("gossip: Interval and Tick must be positive")
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return errors.New("gossip: need 0 < BackoffMin <= BackoffMax")
	case c.MaxStrikes < 1 || c.BanDuration <= 0:
		return errors.New("gossip: MaxStrikes and BanDuration must be positive")
	case c.InlineBytes < 0 || c.InlineBytes > 512<<10:
		return errors.New("gossip: InlineBytes must be within [0, 512 KiB]")
	case c.Clock == nil:
		return errors.New("gossip: Clock is required")
	case c.MaxProtocol != 0 && (c.MaxProtocol < syncproto.MinVersion || c.MaxProtocol > syncproto.Version):
		return fmt.Errorf("gossip: MaxProtocol %d outside [%d, %d]", c.MaxProtocol, syncproto.MinVersion, syncproto.Version)
	case c.WatermarkInterval <= 0:
		return errors.New("gossip: WatermarkInterval must be positive")
	}
	return c.Session.Validate()
}
