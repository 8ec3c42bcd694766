package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/event"
)

// Bulk emit sends at most this many events, or about this many bytes, per
// request.
const (
	emitBatch      = 1000
	emitBatchBytes = 4 << 20
)

// ackJSON is one acknowledged event of POST /v1/events.
type ackJSON struct {
	EventID  string `json:"event_id"`
	DeviceID string `json:"device_id"`
	Seq      uint64 `json:"seq"`
}

type emitOpts struct {
	file  string
	ts    string
	blobs []string
}

func newEmitCmd() *cobra.Command {
	var o emitOpts
	cmd := &cobra.Command{
		Use:   "emit TYPE [JSON] | emit --file FILE",
		Short: "Record events on a node: one from the arguments, or many from an NDJSON file",
		Long: `Record events on a node.

  rumor emit TYPE [JSON]   one event of TYPE; JSON is its payload object ({} if absent)
  rumor emit --file FILE   one event per line of FILE (- for stdin), each a JSON object
                           as POST /v1/events takes it: {"type": …, "payload": {…}, …}

Bulk events go in batches of 1,000 per request; each batch is stored all or
nothing, so after an error the events of the earlier batches are stored and
the rest are not. Lines are checked before they are sent, and a bad one
stops the run with its line number. A progress bar shows on stderr when it is
a terminal.`,
		Example: `  rumor emit door.open '{"door":"north","value":1}'
  rumor emit --file events.ndjson
  producer | rumor emit --file -`,
	}
	c := addClientFlags(cmd)
	cmd.Flags().StringVar(&o.file, "file", "", "NDJSON file of events to send in bulk, - for stdin")
	cmd.Flags().StringVar(&o.ts, "ts", "", "event time, epoch milliseconds or RFC 3339 (default: when the node stores it)")
	cmd.Flags().StringArrayVar(&o.blobs, "blob", nil, "CID of a blob the event references (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if o.file != "" {
			if len(args) > 0 || o.ts != "" || len(o.blobs) > 0 {
				return errors.New("--file takes no TYPE, JSON, --ts or --blob: each line is a whole event")
			}
			return c.emitFile(cmd, o.file)
		}
		if len(args) < 1 || len(args) > 2 {
			return errors.New("emit needs TYPE [JSON], or --file FILE")
		}
		return c.emitOne(cmd, args, o)
	}
	return cmd
}

// emitOne sends the event of the arguments.
func (c *client) emitOne(cmd *cobra.Command, args []string, o emitOpts) error {
	ev := map[string]any{"type": args[0]}
	if len(args) == 2 {
		if !json.Valid([]byte(args[1])) {
			return fmt.Errorf("payload %q is not valid JSON", truncate(args[1], 80))
		}
		ev["payload"] = json.RawMessage(args[1])
	}
	if o.ts != "" {
		ms, err := parseTS(o.ts)
		if err != nil {
			return err
		}
		ev["ts"] = ms
	}
	if len(o.blobs) > 0 {
		ev["blobs"] = o.blobs
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	raw, acks, err := c.post(cmd.Context(), body, "application/json")
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(cmd.OutOrStdout(), raw)
	}
	t := newTable("EVENT ID", "DEVICE", "SEQ").alignRight(2)
	for _, a := range acks {
		t.add(a.EventID, a.DeviceID, strconv.FormatUint(a.Seq, 10))
	}
	return t.write(cmd.OutOrStdout())
}

// parseTS reads epoch milliseconds or an RFC 3339 time.
func parseTS(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("--ts %q is neither epoch milliseconds nor an RFC 3339 time", s)
	}
	return t.UnixMilli(), nil
}

// post sends one ingest request and returns the raw answer and its acks.
func (c *client) post(ctx context.Context, body []byte, contentType string) ([]byte, []ackJSON, error) {
	resp, err := c.do(ctx, http.MethodPost, "/v1/events", nil, bytes.NewReader(body), contentType)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	var out struct {
		Events []ackJSON `json:"events"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, fmt.Errorf("unexpected answer from %s: %w", c.node, err)
	}
	return raw, out.Events, nil
}

// emitFile sends an NDJSON file (or stdin) in batches.
func (c *client) emitFile(cmd *cobra.Command, name string) error {
	var r io.Reader = cmd.InOrStdin()
	var size int64
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		r = f
	} else {
		name = "stdin"
	}
	start := time.Now()
	bar := newProgress(cmd.ErrOrStderr(), size)
	n, batches, err := c.bulk(cmd.Context(), r, name, bar)
	bar.finish()
	if err != nil {
		if n > 0 {
			return fmt.Errorf("%w (the %s events before it were stored)", err, formatCount(n))
		}
		return err
	}
	if c.json {
		out, _ := json.Marshal(map[string]uint64{"events": n, "requests": uint64(batches)})
		return printJSON(cmd.OutOrStdout(), out)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "emitted %s events in %d requests (%s)\n",
		formatCount(n), batches, formatDuration(time.Since(start)))
	return err
}

// bulk reads events line by line, checks each, and posts them in batches.
// It returns how many events the node stored.
func (c *client) bulk(ctx context.Context, r io.Reader, name string, bar *progress) (uint64, int, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var batch bytes.Buffer
	var stored, read uint64
	var inBatch, batches, first int
	flush := func(lastLine int) error {
		if inBatch == 0 {
			return nil
		}
		_, acks, err := c.post(ctx, batch.Bytes(), "application/x-ndjson")
		if err != nil {
			return fmt.Errorf("%s lines %d-%d: %w", name, first, lastLine, err)
		}
		stored += uint64(len(acks))
		batches++
		batch.Reset()
		inBatch = 0
		bar.update(read, stored)
		return nil
	}
	line := 0
	for {
		b, rerr := br.ReadBytes('\n')
		read += uint64(len(b))
		if len(b) > 0 {
			line++
			if b = bytes.TrimSpace(b); len(b) > 0 {
				if _, err := event.ParseInput(b); err != nil {
					return stored, batches, fmt.Errorf("%s line %d: %w", name, line, err)
				}
				if inBatch == 0 {
					first = line
				}
				batch.Write(b)
				batch.WriteByte('\n')
				inBatch++
				if inBatch == emitBatch || batch.Len() >= emitBatchBytes {
					if err := flush(line); err != nil {
						return stored, batches, err
					}
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return stored, batches, fmt.Errorf("reading %s: %w", name, rerr)
		}
	}
	if err := flush(line); err != nil {
		return stored, batches, err
	}
	if stored == 0 {
		return 0, batches, fmt.Errorf("%s has no events", name)
	}
	return stored, batches, nil
}
