package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/event"
)

func newEventsCmd() *cobra.Command {
	var device, typ string
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the events a node holds, in (device, seq) order",
		Long: `List the events a node holds, in (device, seq) order. With --json the
node's NDJSON comes through as is: one event object per line.`,
		Example: `  rumor events --type door.open --limit 20
  rumor events --device 12D3KooW… --after 1000 --json | jq .payload`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRedactCmd())
	c := addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&device, "device", "", "only this device's events (default: all devices)")
	f.Uint64Var(&after, "after", 0, "only seqs after this one; needs --device")
	f.StringVar(&typ, "type", "", "only events of this type (default: all types)")
	f.IntVar(&limit, "limit", 100, "at most this many events (up to 1,000,000)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if device != "" {
			q.Set("device", device)
		}
		if f.Changed("after") {
			q.Set("after", strconv.FormatUint(after, 10))
		}
		if typ != "" {
			q.Set("type", typ)
		}
		resp, err := c.do(cmd.Context(), http.MethodGet, "/v1/events", q, nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if c.json {
			_, err := io.Copy(cmd.OutOrStdout(), resp.Body)
			return err
		}
		return writeEvents(cmd.OutOrStdout(), resp.Body)
	}
	return cmd
}

// writeEvents prints an NDJSON event stream as a table.
func writeEvents(w io.Writer, r io.Reader) error {
	t := newTable("TIME (UTC)", "TYPE", "DEVICE", "SEQ", "EVENT ID", "PAYLOAD").alignRight(3)
	dec := json.NewDecoder(bufio.NewReader(r))
	n := 0
	for {
		var e event.JSON
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		payload := truncate(string(e.Payload), 60)
		if e.Redacted {
			payload = "(redacted by " + truncate(e.RedactedBy, 16) + ")"
		}
		t.add(formatTime(e.TS), e.Type, e.DeviceID, strconv.FormatUint(e.Seq, 10), e.EventID, payload)
		n++
	}
	if n == 0 {
		_, err := io.WriteString(w, "no events\n")
		return err
	}
	return t.write(w)
}
