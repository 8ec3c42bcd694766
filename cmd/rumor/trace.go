package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/api"
)

func newTraceCmd() *cobra.Command {
	var limit int
	var peer, eventID string
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "List a node's recent sync sessions, or show which one brought an event",
		Long: `List a node's recent sync sessions with its peers, newest first: direction
(out: this node opened it, in: the peer did, push: pushed announcements),
events and bytes each way, result and error. With --event-id, show how that
event reached the node: created here, or the session that brought it.`,
		Example: `  rumor trace --limit 20
  rumor trace --peer 12D3KooW…
  rumor trace --event-id 019ab3c4-…`,
		Args: cobra.NoArgs,
	}
	c := addClientFlags(cmd)
	f := cmd.Flags()
	f.IntVar(&limit, "limit", api.DefaultTraceLimit, fmt.Sprintf("at most this many sessions (up to %d)", api.MaxTraceLimit))
	f.StringVar(&peer, "peer", "", "only sessions with this peer (default: all peers)")
	f.StringVar(&eventID, "event-id", "", "show where this event came from instead")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		if eventID != "" {
			if f.Changed("limit") || peer != "" {
				return fmt.Errorf("--event-id cannot be combined with --limit or --peer")
			}
			q.Set("event_id", eventID)
		} else {
			q.Set("limit", strconv.Itoa(limit))
			if peer != "" {
				q.Set("peer", peer)
			}
		}
		raw, err := c.get(cmd.Context(), "/v1/trace", q)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		if eventID != "" {
			var et api.EventTrace
			if err := json.Unmarshal(raw, &et); err != nil {
				return fmt.Errorf("unexpected answer from %s: %w", c.node, err)
			}
			return writeEventTrace(cmd.OutOrStdout(), et)
		}
		var list api.TraceList
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("unexpected answer from %s: %w", c.node, err)
		}
		if len(list.Sessions) == 0 {
			_, err := io.WriteString(cmd.OutOrStdout(), "no sync sessions\n")
			return err
		}
		return writeSessions(cmd.OutOrStdout(), list.Sessions)
	}
	return cmd
}

func writeSessions(w io.Writer, sessions []api.TraceSession) error {
	t := newTable("ID", "PEER", "DIRECTION", "STARTED (UTC)", "DURATION", "EVENTS IN", "EVENTS OUT",
		"BYTES IN", "BYTES OUT", "RESULT", "ERROR").alignRight(4, 5, 6, 7, 8)
	for _, s := range sessions {
		t.add(s.ID, s.Peer, s.Direction, s.Started.UTC().Format("2006-01-02 15:04:05.000"),
			formatDuration(time.Duration(s.DurationMS*float64(time.Millisecond))),
			formatCount(s.EventsIn), formatCount(s.EventsOut), formatBytes(s.BytesIn), formatBytes(s.BytesOut),
			s.Result, orDash(s.Error))
	}
	return t.write(w)
}

func writeEventTrace(w io.Writer, et api.EventTrace) error {
	how := map[string]string{"local": "created on this node", "session": "received in a sync session", "push": "received by push"}[et.Via]
	if how == "" {
		how = "via " + et.Via
	}
	if _, err := fmt.Fprintf(w, "event %s (device %s, seq %d): %s\n", et.EventID, et.DeviceID, et.Seq, how); err != nil {
		return err
	}
	if et.Session == nil {
		return nil
	}
	fmt.Fprintln(w)
	return writeSessions(w, []api.TraceSession{*et.Session})
}
