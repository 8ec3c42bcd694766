package main

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/node"
)

func newNodeCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var logFormat, logLevel string
	var noMDNS bool
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a rumor node (a device) on its data directory",
		Long: `Run a rumor node: it takes events in over HTTP, keeps them crash-safe in its
data directory, serves the API, and syncs with the other nodes of its mesh
over libp2p (static --peer addresses, mDNS on the LAN, and every member they
know of). Every flag can also be given as an
environment variable RUMOR_<FLAG>, e.g. RUMOR_DATA=/var/lib/rumor.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			cfg.MDNS = !noMDNS
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			return n.Run(cmd.Context(), func(addr net.Addr) {
				fmt.Fprintf(cmd.OutOrStdout(), "rumor node %s listening on http://%s\n", n.ID(), addr)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (identity, event log, databases)")
	f.StringVar(&cfg.APIAddr, "api", cfg.APIAddr, "HTTP API listen address")
	f.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "largest request body in bytes (blobs excepted)")
	f.Int64Var(&cfg.MaxBlob, "max-blob", cfg.MaxBlob, "largest blob upload in bytes")
	f.StringVar(&cfg.Role, "role", cfg.Role, "node role: device or sink")
	f.StringArrayVar(&cfg.Listen, "listen", cfg.Listen, "libp2p listen multiaddr (repeatable)")
	f.StringArrayVar(&cfg.Peers, "peer", nil, "static peer multiaddr ending in /p2p/<id> (repeatable)")
	f.StringVar(&cfg.Mesh, "mesh", cfg.Mesh, "mesh name; nodes of different meshes never exchange data")
	f.StringVar(&cfg.SecretFile, "secret", "", "mesh secret file (see rumor keygen); nodes without it cannot connect")
	f.BoolVar(&noMDNS, "no-mdns", false, "turn off mDNS discovery on the LAN")
	f.BoolVar(&cfg.Offline, "offline", false, "run without networking (a lone device)")
	f.DurationVar(&cfg.SyncInterval, "sync-interval", cfg.SyncInterval, "mean time between anti-entropy sessions")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}
