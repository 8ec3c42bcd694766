package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rumor-sync/rumor/node"
)

// retentionFlags registers the retention options of rumor node.
func retentionFlags(f *pflag.FlagSet, c *node.RetentionConfig) {
	f.DurationVar(&c.Retain, "retain", c.Retain,
		"keep raw events at least this long (by event time), then delete them once a sink has archived them; the context and aggregates keep them (default 0: keep them until --max-disk needs the space)")
	f.Var((*byteSize)(&c.MaxDisk), "max-disk",
		"data directory budget, in bytes or with a unit (500MiB, 20GB); over it, archived events go oldest first, and what is not archived yet stays (logged, rumor_retention_blocked) (default 0: none)")
	f.BoolVar(&c.PruneWhenAllHave, "prune-when-all-have", c.PruneWhenAllHave,
		"also delete (by --retain and --max-disk) events every live member holds, without a sink: the mesh then keeps only their aggregates (default false)")
	f.BoolVar(&c.JoinSnapshot, "join-snapshot", c.JoinSnapshot,
		"start an empty device from a neighbour's snapshot (context, aggregates, raw events within --retain) instead of pulling the whole history; always on with --retain (default false)")
	f.DurationVar(&c.Interval, "retention-interval", c.Interval, "time between retention passes")
	f.DurationVar(&c.WatermarkInterval, "watermark-interval", c.WatermarkInterval,
		"sink only: time between publications of its archived watermark to the mesh")
}

// byteSize is a byte count flag that takes units: KB, MB, GB, TB (powers
// of 1000) and KiB, MiB, GiB, TiB (powers of 1024).
type byteSize int64

var units = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Type() string { return "bytes" }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (n > 0 && n > (1<<63-1)/mult) {
		return fmt.Errorf("%q is not a byte count (e.g. 1073741824, 500MiB, 20GB)", s)
	}
	*b = byteSize(n * mult)
	return nil
}
