package mesh

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/pnet"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
)

// newHost builds the libp2p host: the configured identity and listen
// addresses, TCP and WebSocket over TCP (for devices behind HTTP proxies:
// `--listen /ip4/…/tcp/…/ws`; QUIC and the other UDP transports cannot use
// a private-network PSK), Noise, yamux, the PSK when a secret is set, a
// resource manager with libp2p's auto-scaled default limits, and g as the
// connection gater. Relaying is off: mesh peers connect directly.
//
// TCP port reuse is off: with it, two peers that dial each other at the same
// moment (as peers discovering each other do) both dial from their listen
// ports, TCP's simultaneous open merges the two dials into one socket on
// which both sides act as initiator, and the security handshake fails.
// Without it the dials are two connections and both succeed.
func newHost(cfg *Config, g *gater) (host.Host, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	var rmOpts []rcmgr.Option
	if cfg.Registerer == nil {
		rmOpts = append(rmOpts, rcmgr.WithMetricsDisabled())
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()), rmOpts...)
	if err != nil {
		return nil, fmt.Errorf("mesh: resource manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrStrings(cfg.Listen...),
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(websocket.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, muxer()),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(g),
		libp2p.DisableRelay(),
	}
	if cfg.Secret != nil {
		opts = append(opts, libp2p.PrivateNetwork(pnet.PSK(cfg.Secret)))
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		_ = rm.Close()
		return nil, fmt.Errorf("mesh: libp2p host: %w", err)
	}
	return h, nil
}

// muxer is libp2p's yamux transport with data frames no larger than one
// Noise message. yamux's default frame (64 KiB with its header) is 17 bytes
// more than Noise carries in a message (65,519 bytes), so every full frame
// went out as two messages, the second of 17 bytes: twice the encryptions
// and socket writes on the sender and reads on the receiver. With frames
// that fit, a 1 M-event catch-up (378 MB of events) makes half as many.
func muxer() *yamux.Transport {
	c := *yamux.DefaultTransport.Config()
	c.MaxMessageSize = noise.MaxPlaintextLength
	t := yamux.Transport(c)
	return &t
}
