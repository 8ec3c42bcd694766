package node

import (
	"fmt"
	"time"
)

// RetentionConfig bounds how much raw history a device keeps. A device
// deletes raw events only once they are safe elsewhere: archived by a
// sink, or, with PruneWhenAllHave, held by every live member. Pruned
// events stay in the causal context (never pulled back) and in the
// aggregates.
type RetentionConfig struct {
	// Retain keeps raw events at least this long, by event time; older
	// ones are deleted once archived. 0 keeps them until MaxDisk needs
	// the space. Default 0.
	Retain time.Duration
	// MaxDisk is the data directory's budget in bytes (0: none). Over it,
	// the device deletes archived events, oldest first, however young;
	// when what is archived is not enough it logs so and reports it in
	// rumor_retention_blocked. At least 8 MiB. Default 0.
	MaxDisk int64
	// PruneWhenAllHave also lets events every live member holds be
	// deleted (by Retain and MaxDisk), with no sink: members that are down
	// may then never get them, and once every member pruned them the mesh
	// keeps only their aggregates. Default false.
	PruneWhenAllHave bool
	// JoinSnapshot makes a device with an empty store start from a
	// neighbour's snapshot (context, aggregates, and the raw events within
	// Retain) instead of pulling the whole history. It is on whenever
	// Retain is set; set it to join from a snapshot without Retain too.
	// Default false.
	JoinSnapshot bool
	// Interval is how often retention runs. Default 1 min.
	Interval time.Duration
	// Watermarks, set on a sink, returns its archived watermark: per
	// origin the highest seq archived durably, contiguous from 1
	// (the sink archiver's Watermarks). The node gossips it to the mesh
	// every WatermarkInterval; members accept it only from a member that
	// advertises the sink role.
	Watermarks func() map[string]uint64
	// WatermarkInterval is how often Watermarks is published. Default 5 s.
	WatermarkInterval time.Duration
}

// DefaultRetentionConfig returns the defaults documented on each field.
func DefaultRetentionConfig() RetentionConfig {
	return RetentionConfig{Interval: time.Minute, WatermarkInterval: 5 * time.Second}
}

// Validate reports the first invalid field.
func (c *RetentionConfig) Validate() error {
	switch {
	case c.Retain < 0:
		return fmt.Errorf("node: config: retain %v is negative", c.Retain)
	case c.MaxDisk != 0 && c.MaxDisk < 8<<20:
		return fmt.Errorf("node: config: max disk %d is below 8 MiB", c.MaxDisk)
	case c.Interval <= 0 || c.WatermarkInterval <= 0:
		return fmt.Errorf("node: config: retention and watermark intervals must be positive")
	}
	return nil
}

// enabled reports whether the device prunes at all.
func (c *RetentionConfig) enabled() bool {
	return c.Retain > 0 || c.MaxDisk > 0
}

// segmentBytes is the store's segment size: space comes back a whole
// segment at a time, so a disk budget wants segments well below it.
func (c *RetentionConfig) segmentBytes(def int64) int64 {
	if c.MaxDisk == 0 {
		return def
	}
	return min(def, max(1<<20, c.MaxDisk/32))
}
