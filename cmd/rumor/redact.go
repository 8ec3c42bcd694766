package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/api"
)

func newRedactCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "redact EVENT_ID",
		Short: "Redact an event: remove its payload and blobs everywhere in the mesh",
		Long: `Redact an event (DELETE /v1/events/{id}): the node signs a redaction as its
device, and every node that holds the event, or gets it later, drops its
payload and blobs for good and shows it as redacted. Its header (id, device,
seq, time, type) stays, and so does its place in the device's log.

A device may redact its own events; another device's only if it is listed
as an --operator (on every node, which each check the redaction). The node
must hold the event. Redacting an event twice is harmless.`,
		Example: `  rumor events redact 019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b`,
		Args:    cobra.ExactArgs(1),
	}
	c := addClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := uuid.Parse(args[0])
		if err != nil {
			return fmt.Errorf("%q is not an event id (a UUID)", args[0])
		}
		resp, err := c.do(cmd.Context(), http.MethodDelete, "/v1/events/"+url.PathEscape(id.String()), nil, nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(cmd.OutOrStdout(), body)
		}
		var r api.RedactionJSON
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("unexpected answer from %s: %w", c.node, err)
		}
		out := cmd.OutOrStdout()
		if resp.StatusCode == http.StatusOK {
			_, err = fmt.Fprintf(out, "event %s (%s seq %d) was already redacted by %s at %s\n",
				r.EventID, r.DeviceID, r.Seq, r.RedactedBy, formatTime(r.RedactedAt))
			return err
		}
		_, err = fmt.Fprintf(out, "redacted event %s (%s seq %d); the redaction is event %s (seq %d) and reaches the mesh as it syncs\n",
			r.EventID, r.DeviceID, r.Seq, r.Redaction.EventID, r.Redaction.Seq)
		return err
	}
	return cmd
}
