package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/policy"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/sink"
	"github.com/rumor-sync/rumor/store"
)

// Roles a node can have.
const (
	RoleDevice = "device" // an edge device: records and syncs events
	RoleSink   = "sink"   // archives the mesh's events to object storage
)

// Config configures a Node.
type Config struct {
	// DataDir holds the identity, the event log and the databases.
	// Default "./rumor-data".
	DataDir string
	// APIAddr is the HTTP API's listen address. Default "127.0.0.1:7070".
	APIAddr string
	// MaxBody is the largest accepted request body in bytes, blob uploads
	// excepted. Default 8 MiB.
	MaxBody int64
	// MaxBlob is the largest accepted blob in bytes. Default 1 GiB.
	MaxBlob int64
	// Role is RoleDevice or RoleSink. Default RoleDevice.
	Role string
	// Logger receives the node's structured logs. Default slog.Default().
	Logger *slog.Logger
	// Clock gives the time. Default the wall clock.
	Clock clock.Clock

	// Listen are the libp2p listen multiaddrs. Default
	// ["/ip4/0.0.0.0/tcp/4001"].
	Listen []string
	// Peers are static peers, full multiaddrs ending in /p2p/<id>.
	Peers []string
	// Mesh names the mesh; nodes of different meshes never exchange data.
	// Default "default".
	Mesh string
	// SecretFile, if set, holds the mesh secret (64 hex characters or
	// libp2p's swarm.key format); nodes without it cannot connect.
	SecretFile string
	// MDNS turns on LAN discovery. Default true.
	MDNS bool
	// Offline runs without any networking (no libp2p host): a lone device.
	Offline bool
	// SyncInterval is the mean time between anti-entropy sessions. Default
	// 1 s. Ignored when Switches is set.
	SyncInterval time.Duration
	// Switches, if set, are the initial sync switches and where each came
	// from (cmd/rumor resolves them from its flags, environment and config
	// file). Nil means the defaults, with SyncInterval as the interval.
	// They can change while the node runs: see Node.Switches.
	Switches *policy.Resolved
	// Reload, if set, re-reads the configuration for SIGHUP and POST
	// /v1/config/reload and returns the switches it resolves to; see
	// Node.Reload.
	Reload func() (policy.Reloaded, error)
	// MQTTAddr, if set, is the listen address of the embedded MQTT broker:
	// messages published to rumor/events/<type> become events (see
	// MQTTTopic). Its packets are limited to MaxBody bytes. Default "" (off).
	MQTTAddr string
	// SchemasFile, if set, is a schema registry file (see package schema):
	// payloads of the (type, version) pairs it names must match its JSON
	// Schemas at ingest and on receipt from peers. Default "" (none).
	SchemasFile string
	// MaxClockSkew bounds how far ahead of this node's clock a received
	// event's hybrid logical clock stamp may be for the node's clock to
	// follow it; events further ahead are stored but not followed, and
	// counted in rumor_clock_skew_events_total. 0 to 24 h. Default 1 min.
	MaxClockSkew time.Duration
	// OnCommit, if set, is called with the events of every durable commit
	// (local or received), in commit order. It must not block.
	OnCommit func(events []*event.Event)
	// Operators are the device ids allowed to redact any device's events
	// (DELETE /v1/events/{id}); a device may always redact its own. Every
	// node checks every redaction it receives against its own list, so the
	// list should be the same across a mesh. Default none.
	Operators []string
	// SyncProtocol is the newest sync protocol version the node speaks: 0
	// (the default) for the newest, 1 to behave as a node of the previous
	// release while a mesh is upgraded (it then neither sends nor receives
	// redacted events). See gossip.Config.MaxProtocol.
	SyncProtocol int
	// Retention (retention.go): what a device may delete of its raw events,
	// only ever below what a sink archived (or every live member holds,
	// with PruneWhenAllHave).
	Retention RetentionConfig

	// Archive is where a sink archives the mesh's events (see package
	// sink): a directory path, file:///path, or
	// s3://bucket?endpoint=…&region=…. Only for RoleSink. Default ""
	// (a sink then uses DataDir/archive).
	Archive string
	// ArchiveRows is the most events one archive file holds. Default
	// 100,000.
	ArchiveRows int
	// ArchiveAge closes an archive file once its oldest event arrived this
	// long ago. Default 30 s.
	ArchiveAge time.Duration
}

// DefaultConfig returns the defaults documented on each Config field.
func DefaultConfig() Config {
	return Config{
		DataDir: "./rumor-data",
		APIAddr: "127.0.0.1:7070",
		MaxBody: 8 << 20,
		MaxBlob: 1 << 30,
		Role:    RoleDevice,
		Clock:   clock.Real{},
		Listen:  []string{"/ip4/0.0.0.0/tcp/4001"},
		Mesh:    "default",
		MDNS:    true,

		SyncInterval: time.Second,
		MaxClockSkew: time.Minute,
		Retention:    DefaultRetentionConfig(),
		ArchiveRows:  sink.DefaultRows,
		ArchiveAge:   sink.DefaultAge,
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("node: config: data directory is required")
	}
	if _, _, err := net.SplitHostPort(c.APIAddr); err != nil {
		return fmt.Errorf("node: config: API address %q: %v", c.APIAddr, err)
	}
	if c.MaxBody < 1024 {
		return fmt.Errorf("node: config: max body %d is below 1024 bytes", c.MaxBody)
	}
	if c.MaxBlob < 1 {
		return fmt.Errorf("node: config: max blob %d must be positive", c.MaxBlob)
	}
	if c.Role != RoleDevice && c.Role != RoleSink {
		return fmt.Errorf("node: config: role %q is not %q or %q", c.Role, RoleDevice, RoleSink)
	}
	if c.Clock == nil {
		return errors.New("node: config: clock is required")
	}
	if c.MQTTAddr != "" {
		if _, _, err := net.SplitHostPort(c.MQTTAddr); err != nil {
			return fmt.Errorf("node: config: MQTT address %q: %v", c.MQTTAddr, err)
		}
	}
	if c.MaxClockSkew < 0 || c.MaxClockSkew > store.MaxClockSkewLimit {
		return fmt.Errorf("node: config: max clock skew %v outside [0, %v]", c.MaxClockSkew, store.MaxClockSkewLimit)
	}
	if c.SyncInterval <= 0 {
		return fmt.Errorf("node: config: sync interval %v must be positive", c.SyncInterval)
	}
	if err := c.validateRedaction(); err != nil {
		return err
	}
	if err := c.Retention.Validate(); err != nil {
		return err
	}
	return c.validateArchive()
}
