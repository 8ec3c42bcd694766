package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/api"
)

// statusJSON is the body of GET /v1/status.
type statusJSON struct {
	DeviceID      string            `json:"device_id"`
	Role          string            `json:"role"`
	Mesh          string            `json:"mesh"`
	Addrs         []string          `json:"addrs"`
	Peers         []api.Peer        `json:"peers"`
	Members       []api.Member      `json:"members"`
	VersionVector map[string]uint64 `json:"version_vector"`
	Events        uint64            `json:"events"`
	Digest        string            `json:"digest"`
}

func newStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a node's identity, event count, addresses and version vector",
		Args:  cobra.NoArgs,
	}
	c := addClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var st statusJSON
		raw, err := c.getJSON(cmd.Context(), "/v1/status", nil, &st)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		return writeStatus(cmd.OutOrStdout(), st)
	}
	return cmd
}

func writeStatus(w io.Writer, st statusJSON) error {
	connected := 0
	for _, p := range st.Peers {
		if p.Connected {
			connected++
		}
	}
	t := newTable()
	t.add("device", st.DeviceID)
	t.add("role", st.Role)
	t.add("mesh", orDash(st.Mesh))
	t.add("events", formatCount(st.Events))
	t.add("digest", st.Digest)
	for i, a := range st.Addrs {
		label := ""
		if i == 0 {
			label = "addrs"
		}
		t.add(label, a)
	}
	if len(st.Addrs) == 0 {
		t.add("addrs", "- (offline)")
	}
	t.add("peers", fmt.Sprintf("%d known, %d connected", len(st.Peers), connected))
	t.add("members", strconv.Itoa(len(st.Members)))
	if err := t.write(w); err != nil {
		return err
	}
	if len(st.VersionVector) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	vv := newTable("ORIGIN", "CONTIGUOUS TO SEQ").alignRight(1)
	for _, o := range slices.Sorted(maps.Keys(st.VersionVector)) {
		vv.add(o, formatCount(st.VersionVector[o]))
	}
	return vv.write(w)
}
