//go:build tools

// Package tools pins dependencies that are not yet imported by code.
package tools

import (
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/google/uuid"
	_ "github.com/hashicorp/memberlist"
	_ "github.com/ipfs/go-cid"
	_ "github.com/libp2p/go-libp2p"
	_ "github.com/libp2p/go-libp2p-pubsub"
	_ "github.com/multiformats/go-multihash"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "pgregory.net/rapid"
)
