package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newBlobCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blob",
		Short: "Store and fetch blobs (files events refer to by CID)",
	}
	cmd.AddCommand(newBlobPutCmd(), newBlobGetCmd())
	return cmd
}

func newBlobPutCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "put FILE",
		Short:   "Store a file (- for stdin) on a node and print its CID",
		Example: "  rumor emit photo.taken '{\"camera\":2}' --blob $(rumor blob put photo.jpg --json | jq -r .cid)",
		Args:    cobra.ExactArgs(1),
	}
	c := addClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		raw, err := c.blobPut(cmd, args[0])
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var out struct {
			CID  string `json:"cid"`
			Size uint64 `json:"size"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("unexpected answer from %s: %w", c.node, err)
		}
		t := newTable("CID", "SIZE").alignRight(1)
		t.add(out.CID, formatBytes(out.Size))
		return t.write(cmd.OutOrStdout())
	}
	return cmd
}

// blobPut streams a file to POST /v1/blobs and returns the answer.
func (c *client) blobPut(cmd *cobra.Command, name string) ([]byte, error) {
	var body io.Reader = cmd.InOrStdin()
	size := int64(-1)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		body = f
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, c.node+"/v1/blobs", body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func newBlobGetCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get CID [-o FILE]",
		Short: "Fetch a blob from a node (which fetches it from its peers if needed)",
		Long: `Fetch a blob to FILE, or to stdout when it is not a terminal. The node
verifies the bytes against the CID as they stream; FILE appears only once
the whole blob has arrived.`,
		Args: cobra.ExactArgs(1),
	}
	c := addClientFlags(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the blob to (default stdout)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if out == "" {
			if f, ok := cmd.OutOrStdout().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				return errors.New("not writing a blob to a terminal: use -o FILE or redirect stdout")
			}
		}
		resp, err := c.do(cmd.Context(), http.MethodGet, "/v1/blobs/"+url.PathEscape(args[0]), nil, nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if out == "" {
			_, err := copyAll(cmd.OutOrStdout(), resp)
			return err
		}
		n, err := writeFileAtomic(out, resp)
		if err != nil {
			return err
		}
		if c.json {
			b, _ := json.Marshal(map[string]any{"cid": args[0], "size": n, "file": out})
			return printJSON(cmd.OutOrStdout(), b)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s) to %s\n", args[0], formatBytes(uint64(n)), out)
		return err
	}
	return cmd
}

// copyAll copies a blob response to w, failing if it was cut short.
func copyAll(w io.Writer, resp *http.Response) (int64, error) {
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, fmt.Errorf("blob download cut short after %d bytes: %w", n, err)
	}
	return n, nil
}

// writeFileAtomic writes a blob response to a temporary file beside name
// and renames it into place once complete.
func writeFileAtomic(name string, resp *http.Response) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".part-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	n, err := copyAll(tmp, resp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), name)
}
