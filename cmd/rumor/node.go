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
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a rumor node (a device) on its data directory",
		Long: `Run a rumor node: it takes events in over HTTP, keeps them crash-safe in its
data directory and serves the API. Every flag can also be given as an
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
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}
