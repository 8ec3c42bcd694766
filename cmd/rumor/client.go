package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// defaultNode is the API a client command talks to without --node.
const defaultNode = "http://127.0.0.1:7070"

// clientCmds are the commands that talk to a running node's API.
func clientCmds() []*cobra.Command {
	return []*cobra.Command{
		newEmitCmd(), newStatusCmd(), newPeersCmd(), newHealthCmd(),
		newEventsCmd(), newBlobCmd(), newTraceCmd(),
	}
}

// client is a node's HTTP API as the client commands see it.
type client struct {
	node string // base URL, from --node or RUMOR_NODE
	json bool   // --json: machine-readable output
	http *http.Client
	now  func() time.Time
}

// addClientFlags gives cmd --node and --json and returns the client they
// configure. The command's PreRunE reads RUMOR_NODE.
func addClientFlags(cmd *cobra.Command) *client {
	c := &client{http: &http.Client{}, now: time.Now}
	cmd.Flags().StringVar(&c.node, "node", defaultNode, "the node's API URL (env RUMOR_NODE)")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON for scripts instead of a table")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := bindEnv(cmd, "node"); err != nil {
			return err
		}
		return c.normalize()
	}
	return c
}

// normalize accepts "host:port" for "http://host:port".
func (c *client) normalize() error {
	if !strings.Contains(c.node, "://") {
		c.node = "http://" + c.node
	}
	u, err := url.Parse(c.node)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--node %q is not an http(s) URL like %s", c.node, defaultNode)
	}
	c.node = strings.TrimRight(c.node, "/")
	return nil
}

// do sends a request to path (with query q) and returns the response of
// a 2xx status; any other status becomes an error carrying the API's
// {"error": …} message verbatim.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	u := c.node + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.send(req)
}

// send sends req and returns the response of a 2xx status, else an error.
func (c *client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("cannot reach the node at %s: %w", c.node, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, apiError(resp)
	}
	return resp, nil
}

// apiError reads an error response.
func apiError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error *string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		return errors.New(*e.Error)
	}
	return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
}

// get fetches path and returns the body, which must be JSON.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the response from %s: %w", c.node, err)
	}
	return b, nil
}

// getJSON fetches path and decodes it into v; it also returns the body.
func (c *client) getJSON(ctx context.Context, path string, q url.Values, v any) ([]byte, error) {
	b, err := c.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("unexpected answer from %s%s: %w", c.node, path, err)
	}
	return b, nil
}

// printJSON writes an API body for scripts: as received, newline-ended.
func printJSON(w io.Writer, body []byte) error {
	body = bytes.TrimSpace(body)
	_, err := w.Write(append(body, '\n'))
	return err
}
