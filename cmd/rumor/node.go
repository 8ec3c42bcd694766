package main

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/internal/procs"
	"github.com/rumor-sync/rumor/node"
)

func newNodeCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var logFormat, logLevel string
	var noMDNS bool
	var from origins
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a rumor node (a device or a sink) on its data directory",
		Long: `Run a rumor node: it takes events in over HTTP (and MQTT with --mqtt), keeps
them crash-safe in its data directory, serves the API, and syncs with the
other nodes of its mesh over libp2p (static --peer addresses, mDNS on the
LAN, and every member they know of).

A sink (--role sink) also writes every event it holds, exactly once, to
--archive as Parquet files (events/date=D/device=ID/FIRST-LAST.parquet, zstd)
and the blobs they reference (blobs/CID); GET /v1/archive lists the files.
For s3:// the credentials come from the usual AWS variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...).

Every option can be given three ways; the first found wins:
  1. the flag:               --data /var/lib/rumor
  2. an environment variable: RUMOR_DATA=/var/lib/rumor (RUMOR_<FLAG>, upper
     case, dashes as underscores; a list is comma-separated:
     RUMOR_PEER=/ip4/10.0.0.2/tcp/4001/p2p/12D3…,/ip4/10.0.0.3/…)
  3. the config file of --config (or RUMOR_CONFIG), YAML with the flag
     names as keys and lists for the repeatable flags:
       data: /var/lib/rumor
       listen: [/ip4/0.0.0.0/tcp/4001]
       peer:
         - /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW…
       mqtt: 127.0.0.1:1883
     An unknown key is an error.

The sync switches (--push, --sync-interval, --sync-fanout, --blob-policy,
--sync-batch-bytes, --sync-run-bytes, --push-inline-bytes, --peer-bandwidth)
also change while the node runs: PUT /v1/config changes them until the next
reload or restart; SIGHUP (or POST /v1/config/reload) resolves them again
from the flags, the environment and the config file as it is then, dropping
API changes. A bad file on reload is logged and changes nothing. Other keys
take a restart; a reload reports those that differ.`,
		Example: `  rumor node --data /var/lib/rumor --api 0.0.0.0:7070 --mqtt 0.0.0.0:1883
  rumor node --config /etc/rumor.yaml
  rumor node --role sink --archive 's3://archive?endpoint=http://10.0.0.9:9000&region=us-east-1&use_path_style=true'`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return configure(cmd, &from)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			logger.Debug("scheduler", "gomaxprocs", procs.Tune())
			cfg.MDNS = !noMDNS
			if err := from.setSwitches(cmd, &cfg); err != nil {
				return err
			}
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			defer watchHangup(cmd.Context(), n)()
			return n.Run(cmd.Context(), func(addr net.Addr) {
				fmt.Fprintf(cmd.OutOrStdout(), "rumor node %s listening on http://%s\n", n.ID(), addr)
				if a := n.MQTTAddr(); a != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "mqtt broker listening on %s\n", a)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (identity, event log, databases)")
	f.StringVar(&cfg.APIAddr, "api", cfg.APIAddr, "HTTP API listen address")
	f.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "largest request body in bytes (blobs excepted)")
	f.Int64Var(&cfg.MaxBlob, "max-blob", cfg.MaxBlob, "largest blob upload in bytes")
	f.StringVar(&cfg.Role, "role", cfg.Role, "node role: device or sink (advertised in membership; a sink archives every event to --archive)")
	f.StringArrayVar(&cfg.Listen, "listen", cfg.Listen, "libp2p listen multiaddr (repeatable)")
	f.StringArrayVar(&cfg.Peers, "peer", nil, "static peer multiaddr ending in /p2p/<id> (repeatable) (default none)")
	f.StringVar(&cfg.Mesh, "mesh", cfg.Mesh, "mesh name; nodes of different meshes never exchange data")
	f.StringVar(&cfg.SecretFile, "secret", "", "mesh secret file (see rumor keygen); nodes without it cannot connect (default none: an open mesh)")
	f.BoolVar(&noMDNS, "no-mdns", false, "turn off mDNS discovery on the LAN (default: mDNS on)")
	f.BoolVar(&cfg.Offline, "offline", false, "run without networking (a lone device) (default false)")
	f.DurationVar(&cfg.SyncInterval, "sync-interval", cfg.SyncInterval, "mean time between anti-entropy rounds, 10ms to 24h")
	addSwitchFlags(f)
	f.StringVar(&cfg.SchemasFile, "schemas", "", "schema registry: a JSON file of event type → schema version → JSON Schema; payloads must match at ingest and on receipt (default none)")
	f.DurationVar(&cfg.MaxClockSkew, "max-clock-skew", cfg.MaxClockSkew, "how far ahead of this node's clock a received event's HLC may be for the clock to follow it (0 to 24h); events further ahead are stored, counted and not followed")
	f.StringVar(&cfg.MQTTAddr, "mqtt", "", "MQTT broker listen address, e.g. 127.0.0.1:1883; a message to rumor/events/<type> becomes an event (default off)")
	f.StringArrayVar(&cfg.Operators, "operator", nil, "device id allowed to redact any device's events (repeatable; give every node the same list) (default none: a device redacts only its own)")
	f.IntVar(&cfg.SyncProtocol, "sync-protocol", 0, "newest sync protocol version to speak: 2, or 1 to act as a node of the previous release during an upgrade (default 0: the newest)")
	retentionFlags(f, &cfg.Retention)
	f.StringVar(&cfg.Archive, "archive", "", "sink: where to archive, a directory, file:///dir or s3://BUCKET?endpoint=URL&region=R&use_path_style=true (default <data>/archive)")
	f.IntVar(&cfg.ArchiveRows, "archive-rows", cfg.ArchiveRows, "sink: most events in one archive file")
	f.DurationVar(&cfg.ArchiveAge, "archive-age", cfg.ArchiveAge, "sink: close an archive file once its oldest event arrived this long ago")
	f.String("config", "", "YAML config file; flags and RUMOR_* variables override it (default none)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}
