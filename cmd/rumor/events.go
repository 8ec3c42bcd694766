package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/event"
)

func newEventsCmd() *cobra.Command {
	var device, typ, order, since, cursor string
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the events a node holds, in (device, seq) order or in one time order",
		Long: `List the events a node holds, in (device, seq) order, or with --order time
the events of all devices in (hlc, device, seq) order: the same sequence on
every node that holds the same events. A time-ordered page ends with the
--cursor that continues after it, printed on stderr. With --json the node's
NDJSON comes through as is: one event object per line.`,
		Example: `  rumor events --type door.open --limit 20
  rumor events --device 12D3KooW… --after 1000 --json | jq .payload
  rumor events --order time --since 2025-11-25T00:00:00Z --limit 1000`,
		Args: cobra.NoArgs,
	}
	c := addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&device, "device", "", "only this device's events (default: all devices)")
	f.Uint64Var(&after, "after", 0, "only seqs after this one; needs --device")
	f.StringVar(&typ, "type", "", "only events of this type (default: all types)")
	f.IntVar(&limit, "limit", 100, "at most this many events (up to 1,000,000)")
	f.StringVar(&order, "order", "device", "device: (device, seq) order; time: all devices in (hlc, device, seq) order")
	f.StringVar(&since, "since", "", "with --order time: only events stamped at or after this HLC (<ms>.<counter>, epoch ms or RFC 3339)")
	f.StringVar(&cursor, "cursor", "", "with --order time: continue after the page this cursor ended (printed after each page)")
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
		for k, v := range map[string]string{"order": order, "since": since, "cursor": cursor} {
			if f.Changed(k) {
				q.Set(k, v)
			}
		}
		resp, err := c.do(cmd.Context(), http.MethodGet, "/v1/events", q, nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if c.json {
			_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
		} else {
			err = writeEvents(cmd.OutOrStdout(), resp.Body, order == "time")
		}
		if next := resp.Header.Get("Rumor-Next-Cursor"); err == nil && next != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "next page: --cursor %s\n", next)
		}
		return err
	}
	return cmd
}

// writeEvents prints an NDJSON event stream as a table, led by each
// event's HLC when withHLC is set.
func writeEvents(w io.Writer, r io.Reader, withHLC bool) error {
	cols := []string{"TIME (UTC)", "TYPE", "DEVICE", "SEQ", "EVENT ID", "PAYLOAD"}
	if withHLC {
		cols = append([]string{"HLC"}, cols...)
	}
	t := newTable(cols...).alignRight(slices.Index(cols, "SEQ"))
	dec := json.NewDecoder(bufio.NewReader(r))
	n := 0
	for {
		var e event.JSON
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		row := []string{formatTime(e.TS), e.Type, e.DeviceID, strconv.FormatUint(e.Seq, 10), e.EventID, truncate(string(e.Payload), 60)}
		if withHLC {
			row = append([]string{e.HLC}, row...)
		}
		t.add(row...)
		n++
	}
	if n == 0 {
		_, err := io.WriteString(w, "no events\n")
		return err
	}
	return t.write(w)
}
