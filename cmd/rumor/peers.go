package main

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/api"
)

func newPeersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List a node's peers and the members of its mesh",
		Long: `List the peers a node knows (connected or not) and the live members of its
mesh, one row per device: role (for members), whether it is connected now,
when it was last seen, and its first address.`,
		Args: cobra.NoArgs,
	}
	c := addClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var st statusJSON
		if _, err := c.getJSON(cmd.Context(), "/v1/status", nil, &st); err != nil {
			return err
		}
		if c.json {
			out, err := json.Marshal(map[string]any{"peers": st.Peers, "members": st.Members})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), out)
		}
		return writePeers(cmd.OutOrStdout(), st.Peers, st.Members, c.now())
	}
	return cmd
}

// writePeers prints peers and members as one table, by device id.
func writePeers(w io.Writer, peers []api.Peer, members []api.Member, now time.Time) error {
	type row struct {
		role, connected, seen string
		addrs                 []string
	}
	rows := map[string]*row{}
	for _, p := range peers {
		r := &row{role: "-", connected: "no", addrs: p.Addrs}
		if p.Connected {
			r.connected = "yes"
		}
		r.seen = "-"
		if ts, err := time.Parse(time.RFC3339, p.LastSeen); err == nil {
			r.seen = formatAge(ts, now)
		}
		rows[p.ID] = r
	}
	for _, m := range members {
		r, ok := rows[m.ID]
		if !ok {
			r = &row{connected: "no", seen: "-", addrs: m.Addrs}
			rows[m.ID] = r
		}
		r.role = m.Role
	}
	if len(rows) == 0 {
		_, err := io.WriteString(w, "no peers\n")
		return err
	}
	t := newTable("DEVICE", "ROLE", "CONNECTED", "LAST SEEN", "ADDRESS")
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		r := rows[id]
		t.add(id, r.role, r.connected, r.seen, firstAddr(r.addrs))
	}
	return t.write(w)
}

// firstAddr shows an address list by its first entry and a count.
func firstAddr(addrs []string) string {
	switch len(addrs) {
	case 0:
		return "-"
	case 1:
		return addrs[0]
	}
	return addrs[0] + " (+" + strconv.Itoa(len(addrs)-1) + " more)"
}
