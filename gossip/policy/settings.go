package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// BlobPolicy says which nodes fetch, in the background, the blobs that
// newly received events reference.
type BlobPolicy string

// Blob policies. Under every policy a blob that is not held is still
// fetched from peers when it is asked for (GET /v1/blobs/{cid}).
const (
	// Eager: every node fetches referenced blobs as their events arrive.
	Eager BlobPolicy = "eager"
	// OnDemand: no node fetches blobs before they are asked for.
	OnDemand BlobPolicy = "on-demand"
	// SinksOnly: sinks fetch eagerly (they archive); devices on demand.
	SinksOnly BlobPolicy = "sinks-only"
)

// Valid reports whether b is one of the policies.
func (b BlobPolicy) Valid() bool { return b == Eager || b == OnDemand || b == SinksOnly }

// Bounds of the settings.
const (
	MinSyncInterval = 10 * time.Millisecond
	MaxSyncInterval = 24 * time.Hour
	MaxSyncFanout   = 16
	MinBatchBytes   = 1 << 10
	MaxBatchBytes   = 8 << 20 // so that a DELTA frame always fits the frame limit
	MaxInlineBytes  = 512 << 10
	MinBandwidth    = 4 << 10 // bytes/s, when not 0 (unlimited)
	MaxBandwidth    = 1 << 40
)

// Settings are the sync switches. Every field can change while the node
// runs; see Holder.
type Settings struct {
	// Push announces this node's new events at once on the mesh's
	// gossipsub topic. Off, peers learn of them by anti-entropy only;
	// announcements from peers are still applied. Default on.
	Push bool
	// SyncInterval is the mean time between anti-entropy rounds; each
	// wait is drawn from [SyncInterval/2, 3·SyncInterval/2]. Default 1 s,
	// within [10 ms, 24 h].
	SyncInterval time.Duration
	// SyncFanout is how many live members one round opens a session
	// with, chosen at random. Default 1, within [1, 16].
	SyncFanout int
	// BlobPolicy says which nodes fetch referenced blobs eagerly.
	// Default Eager.
	BlobPolicy BlobPolicy
	// SyncBatchBytes bounds the event bytes of one DELTA frame in new
	// sessions (syncproto's MaxBatchBytes). Default 1 MiB, within
	// [1 KiB, 8 MiB].
	SyncBatchBytes int
	// SyncRunBytes is the size after which a sender ends a sealed run in
	// new sessions (syncproto's RunBytes). Default 4 MiB, within
	// [1 KiB, MaxPendingBytes/2].
	SyncRunBytes int
	// PushInlineBytes bounds the events carried inline in one announcement;
	// larger batches are announced by their seal alone. Default 64 KiB,
	// within [0, 512 KiB].
	PushInlineBytes int
	// PeerBandwidth is the budget, in bytes per second, for the sync and
	// blob bytes this node sends to any one peer; 0 is unlimited (the
	// default). Otherwise at least 4 KiB/s, and enough to send one batch
	// (SyncBatchBytes) within half the time a peer waits for a frame.
	PeerBandwidth int64
}

// Defaults returns the default settings.
func Defaults() Settings {
	return Settings{
		Push:            true,
		SyncInterval:    time.Second,
		SyncFanout:      1,
		BlobPolicy:      Eager,
		SyncBatchBytes:  syncproto.DefaultMaxBatchBytes,
		SyncRunBytes:    syncproto.DefaultRunBytes,
		PushInlineBytes: 64 << 10,
		PeerBandwidth:   0,
	}
}

// FetchesEagerly reports whether a node (a sink or not) fetches the blobs
// of newly received events in the background.
func (s Settings) FetchesEagerly(sink bool) bool {
	return s.BlobPolicy == Eager || (s.BlobPolicy == SinksOnly && sink)
}

// Limits are the fixed parameters of the sync protocol that the
// settings are validated against.
type Limits struct {
	// Window is the most unacknowledged DELTA frames a sender has
	// (syncproto's SessionConfig.Window).
	Window int
	// MaxPendingBytes is what a receiver buffers at most
	// (syncproto's SessionConfig.MaxPendingBytes).
	MaxPendingBytes int
	// FrameTimeout is how long a peer waits for the next frame of a
	// session before failing it (syncproto's IdleTicks × the tick).
	FrameTimeout time.Duration
}

// DefaultLimits returns syncproto's defaults with the replicator's 500 ms
// tick.
func DefaultLimits() Limits {
	return Limits{
		Window:          syncproto.DefaultWindow,
		MaxPendingBytes: syncproto.DefaultMaxPendingBytes,
		FrameTimeout:    syncproto.DefaultIdleTicks * 500 * time.Millisecond,
	}
}

// validate reports whether the limits themselves make sense.
func (l Limits) validate() error {
	if l.Window < 1 || l.MaxPendingBytes < 2*MinBatchBytes || l.FrameTimeout <= 0 {
		return fmt.Errorf("policy: limits %+v: Window, MaxPendingBytes and FrameTimeout must be positive", l)
	}
	return nil
}

// ErrInvalid is wrapped by every error about invalid settings or an
// invalid change.
var ErrInvalid = errors.New("invalid sync settings")

// FieldError is an invalid value of one setting.
type FieldError struct {
	Key string // the setting's JSON name, e.g. "sync_fanout"
	Msg string // what is wrong with it
}

// Error implements error: "sync_fanout: 0 is outside [1, 16]".
func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Field returns the JSON name of the setting.
func (e *FieldError) Field() string { return e.Key }

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first invalid setting, in key order, as a
// *FieldError.
func (s Settings) Validate(l Limits) error {
	switch {
	case s.SyncInterval < MinSyncInterval || s.SyncInterval > MaxSyncInterval:
		return fieldErr(KeySyncInterval, "%v is outside [%v, %v]", s.SyncInterval, MinSyncInterval, MaxSyncInterval)
	case s.SyncFanout < 1 || s.SyncFanout > MaxSyncFanout:
		return fieldErr(KeySyncFanout, "%d is outside [1, %d]", s.SyncFanout, MaxSyncFanout)
	case !s.BlobPolicy.Valid():
		return fieldErr(KeyBlobPolicy, "%q is not a policy: use %q, %q or %q", s.BlobPolicy, Eager, OnDemand, SinksOnly)
	case s.SyncBatchBytes < MinBatchBytes || s.SyncBatchBytes > MaxBatchBytes:
		return fieldErr(KeySyncBatchBytes, "%d is outside [%d, %d]", s.SyncBatchBytes, MinBatchBytes, MaxBatchBytes)
	case s.SyncRunBytes < MinBatchBytes || s.SyncRunBytes > l.MaxPendingBytes/2:
		return fieldErr(KeySyncRunBytes, "%d is outside [%d, %d] (half of what a peer buffers)", s.SyncRunBytes, MinBatchBytes, l.MaxPendingBytes/2)
	case int64(l.Window)*int64(s.SyncRunBytes+s.SyncBatchBytes) > int64(l.MaxPendingBytes):
		return fieldErr(KeySyncRunBytes, "%d with sync_batch_bytes %d: %d frames in flight × (run + batch) = %d bytes exceeds the %d a peer buffers; lower one of them",
			s.SyncRunBytes, s.SyncBatchBytes, l.Window, int64(l.Window)*int64(s.SyncRunBytes+s.SyncBatchBytes), l.MaxPendingBytes)
	case s.PushInlineBytes < 0 || s.PushInlineBytes > MaxInlineBytes:
		return fieldErr(KeyPushInlineBytes, "%d is outside [0, %d]", s.PushInlineBytes, MaxInlineBytes)
	}
	return s.validateBandwidth(l)
}

func (s Settings) validateBandwidth(l Limits) error {
	bw := s.PeerBandwidth
	switch {
	case bw == 0:
		return nil
	case bw < MinBandwidth || bw > MaxBandwidth:
		return fieldErr(KeyPeerBandwidth, "%d bytes/s is outside [%d, %d] (0 is unlimited)", bw, MinBandwidth, int64(MaxBandwidth))
	}
	// One batch must go out well within the time a peer waits for it.
	if need := (int64(s.SyncBatchBytes) + frameOverhead) * int64(time.Second) / int64(l.FrameTimeout/2); bw < need {
		return fieldErr(KeyPeerBandwidth, "%d bytes/s would take %v to send one batch of sync_batch_bytes %d, and peers give up on a session after %v without a frame; use at least %d bytes/s or lower sync_batch_bytes",
			bw, time.Duration(float64(s.SyncBatchBytes+frameOverhead)/float64(bw)*float64(time.Second)).Round(time.Millisecond),
			s.SyncBatchBytes, l.FrameTimeout, need)
	}
	return nil
}

// frameOverhead bounds a DELTA frame's bytes beyond its events (header,
// seals).
const frameOverhead = 4 << 10

// SessionConfig returns base with the batch sizes of s.
func (s Settings) SessionConfig(base syncproto.SessionConfig) syncproto.SessionConfig {
	base.MaxBatchBytes, base.RunBytes = s.SyncBatchBytes, s.SyncRunBytes
	return base
}
