package mesh

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rumor-sync/rumor/internal/clock"
)

// Roles a node advertises in its membership metadata.
const (
	// RoleDevice is an ordinary edge device.
	RoleDevice = "device"
	// RoleSink is a node that archives events (see ARCHITECTURE.md §7).
	RoleSink = "sink"
)

// DefaultMesh is the mesh name used when Config.Mesh is empty.
const DefaultMesh = "default"

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("mesh: invalid config")

// Config configures a Mesh. Start from DefaultConfig; New fills any zero
// field with its default (except MDNS, whose zero value means off).
type Config struct {
	// Key is the node identity (Ed25519). Its peer ID is the device ID.
	// Required.
	Key crypto.PrivKey

	// Listen lists the multiaddrs to listen on (TCP only).
	// Default ["/ip4/0.0.0.0/tcp/4001"].
	Listen []string

	// Peers lists static peers as full multiaddrs ending in /p2p/<id>. They
	// are dialled at start and redialled, with exponential backoff and
	// jitter between RedialMin and RedialMax, whenever not connected.
	Peers []string

	// Mesh names the mesh: it is part of every protocol ID
	// (/rumor/<mesh>/...), of the mDNS service name and of the memberlist
	// label, so different meshes never exchange anything. Letters, digits,
	// '_' and '-', at most 32 bytes. Default "default".
	Mesh string

	// Secret is the optional 32-byte mesh secret (see ParseSecret). When set
	// it is the libp2p private-network PSK, and an HKDF-SHA256 derivation of
	// it (info "rumor memberlist") is the memberlist encryption key. Nil
	// means an open mesh.
	Secret []byte

	// MDNS turns on mDNS discovery on the LAN (service "_rumor-<mesh>._udp").
	// DefaultConfig sets it; the zero value is off.
	MDNS bool

	// Role is advertised to other members: RoleDevice or RoleSink, or any
	// other short token (letters, digits, '-', at most 32 bytes).
	// Default RoleDevice.
	Role string

	// Logger receives the mesh's logs, including memberlist's.
	// Default slog.Default().
	Logger *slog.Logger

	// Clock stamps PeerInfo.LastSeen and times bans. Memberlist and dial
	// timers use the wall clock regardless. Default clock.Real{}.
	Clock clock.Clock

	// Memberlist (SWIM + Lifeguard) timings. The defaults are
	// memberlist.DefaultLANConfig tightened so live members drop a killed
	// node within about 3 s (always under 5 s) in meshes up to ~100 nodes:
	// it is probed within one ProbeInterval or two, the failed probe
	// (direct, then indirect through IndirectChecks=3 members) takes one
	// ProbeInterval, and the suspicion lasts
	// SuspicionMult * max(1, log10(n)) * ProbeInterval = 1.5 s for n <= 10,
	// stretched up to SuspicionMaxTimeoutMult times that while fewer than
	// SuspicionMult-2 other members confirm it; then the death is gossiped
	// every GossipInterval.

	// ProbeInterval is the time between failure-detection probes.
	// Default 500 ms (memberlist LAN: 1 s).
	ProbeInterval time.Duration
	// ProbeTimeout is how long to wait for a probe's ack before asking
	// other members to probe indirectly. Default 250 ms (LAN: 500 ms).
	ProbeTimeout time.Duration
	// SuspicionMult scales the suspicion timeout (see above). Default 3
	// (LAN: 4).
	SuspicionMult int
	// SuspicionMaxTimeoutMult caps the unconfirmed suspicion timeout as a
	// multiple of the minimum. Default 4 (LAN: 6).
	SuspicionMaxTimeoutMult int
	// GossipInterval is the time between gossip rounds. Default 200 ms.
	GossipInterval time.Duration
	// PushPullInterval is the time between full state syncs with a random
	// member. Default 15 s (LAN: 30 s).
	PushPullInterval time.Duration

	// DialTimeout bounds one attempt to connect to a peer. Default 10 s.
	DialTimeout time.Duration
	// RedialMin is the first backoff before redialling an unreachable
	// static peer. Default 1 s.
	RedialMin time.Duration
	// RedialMax caps the static-peer redial backoff. Default 1 min.
	RedialMax time.Duration

	// Registerer, if set, receives libp2p's Prometheus metrics. Nil turns
	// libp2p metrics off.
	Registerer prometheus.Registerer
}

// DefaultConfig returns the defaults: listen on TCP 4001 on all IPv4
// interfaces, mesh "default", mDNS on, role device, and the tuned
// memberlist timings documented on Config. Key must still be set.
func DefaultConfig() Config {
	return Config{
		Listen:                  []string{"/ip4/0.0.0.0/tcp/4001"},
		Mesh:                    DefaultMesh,
		MDNS:                    true,
		Role:                    RoleDevice,
		ProbeInterval:           500 * time.Millisecond,
		ProbeTimeout:            250 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 4,
		GossipInterval:          200 * time.Millisecond,
		PushPullInterval:        15 * time.Second,
		DialTimeout:             10 * time.Second,
		RedialMin:               time.Second,
		RedialMax:               time.Minute,
	}
}

// withDefaults returns c with every zero field (but MDNS) set to its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Listen) == 0 {
		c.Listen = d.Listen
	}
	setIfZero(&c.Mesh, d.Mesh)
	setIfZero(&c.Role, d.Role)
	setIfZero(&c.ProbeInterval, d.ProbeInterval)
	setIfZero(&c.ProbeTimeout, d.ProbeTimeout)
	setIfZero(&c.SuspicionMult, d.SuspicionMult)
	setIfZero(&c.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult)
	setIfZero(&c.GossipInterval, d.GossipInterval)
	setIfZero(&c.PushPullInterval, d.PushPullInterval)
	setIfZero(&c.DialTimeout, d.DialTimeout)
	setIfZero(&c.RedialMin, d.RedialMin)
	setIfZero(&c.RedialMax, d.RedialMax)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c
}

func setIfZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Validate reports whether c, with its zero fields defaulted, is usable. Its
// errors wrap ErrInvalidConfig.
func (c *Config) Validate() error {
	d := c.withDefaults()
	if err := d.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (c *Config) validate() error {
	if c.Key == nil {
		return errors.New("key is required")
	}
	if c.Key.Type() != cryptopb.KeyType_Ed25519 {
		return fmt.Errorf("key is %v, want Ed25519", c.Key.Type())
	}
	for i, s := range c.Listen {
		if _, err := multiaddr.NewMultiaddr(s); err != nil {
			return fmt.Errorf("listen[%d] %q: %w", i, s, err)
		}
	}
	for i, s := range c.Peers {
		if _, err := peer.AddrInfoFromString(s); err != nil {
			return fmt.Errorf("peers[%d] %q (want a multiaddr ending in /p2p/<id>): %w", i, s, err)
		}
	}
	if !validToken(c.Mesh, "_-") {
		return fmt.Errorf("mesh %q: want 1-32 letters, digits, '_' or '-'", c.Mesh)
	}
	if c.Secret != nil && len(c.Secret) != SecretSize {
		return fmt.Errorf("secret is %d bytes, want %d", len(c.Secret), SecretSize)
	}
	if !validToken(c.Role, "-") {
		return fmt.Errorf("role %q: want 1-32 letters, digits or '-'", c.Role)
	}
	return c.validateTimings()
}

func (c *Config) validateTimings() error {
	switch {
	case c.ProbeInterval < 0, c.ProbeTimeout < 0, c.GossipInterval < 0,
		c.PushPullInterval < 0, c.DialTimeout < 0, c.RedialMin < 0, c.RedialMax < 0:
		return errors.New("durations must not be negative")
	case c.ProbeTimeout >= c.ProbeInterval:
		return fmt.Errorf("ProbeTimeout %v must be less than ProbeInterval %v", c.ProbeTimeout, c.ProbeInterval)
	case c.SuspicionMult < 1, c.SuspicionMaxTimeoutMult < 1:
		return errors.New("SuspicionMult and SuspicionMaxTimeoutMult must be at least 1")
	case c.RedialMax < c.RedialMin:
		return fmt.Errorf("RedialMax %v is less than RedialMin %v", c.RedialMax, c.RedialMin)
	}
	return nil
}

// validToken reports whether s is 1-32 bytes of ASCII letters, digits and
// the given extra characters.
func validToken(s, extra string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		for _, e := range extra {
			ok = ok || r == e
		}
		if !ok {
			return false
		}
	}
	return true
}
