package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/gossip"
)

func newHealthCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show how complete a node's copy of each device's events is",
		Long: `Show, per device (origin) of the mesh, how many of its events the node holds
against the highest seq known anywhere in the mesh: completeness, and lag,
the age of the oldest gap (0s when complete). ARCHIVED is the highest seq
of the device some sink has archived, and, after a slash, the seq up to
which this node pruned its raw events. LAST SEEN is when the node last
heard from that device.`,
		Args: cobra.NoArgs,
	}
	c := addClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var h gossip.Health
		raw, err := c.getJSON(cmd.Context(), "/v1/health", nil, &h)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		return writeHealth(cmd.OutOrStdout(), h, c.now())
	}
	return cmd
}

func writeHealth(w io.Writer, h gossip.Health, now time.Time) error {
	t := newTable("DEVICE", "EVENTS", "KNOWN MAX", "COMPLETENESS", "LAG", "ARCHIVED", "LAST SEEN").alignRight(1, 2, 3, 4, 5)
	for _, d := range h.Devices {
		seen := "-"
		if ts, err := time.Parse(time.RFC3339, d.LastSeen); err == nil {
			seen = formatAge(ts, now)
		}
		t.add(d.DeviceID, formatCount(d.Events), formatCount(d.KnownMaxSeq), formatPercent(d.Completeness),
			formatDuration(time.Duration(d.LagSeconds*float64(time.Second))), archived(d), seen)
	}
	if err := t.write(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s, %s complete\n", plural(len(h.Devices), "device"), formatPercent(h.Completeness))
	return err
}

// archived formats a device's archived seq and, when this node pruned
// some of its events, the floor: "1,200 / 1,000".
func archived(d gossip.DeviceHealth) string {
	out := "-"
	if d.ArchivedSeq > 0 {
		out = formatCount(d.ArchivedSeq)
	}
	if d.PrunedSeq > 0 {
		out += " / " + formatCount(d.PrunedSeq)
	}
	return out
}
