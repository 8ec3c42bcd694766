package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// benchSchemas describes the payloads of ndjsonBody: what a real registry
// would say about them.
const benchSchemas = `{"sensor.reading": {"1": {"type": "object", "required": ["value"], "additionalProperties": false,
  "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 100000}, "pad": {"type": "string", "maxLength": 1024}}}}}`

// benchNodeWith is benchNode with cfg adjusted by mutate.
func benchNodeWith(b *testing.B, mutate func(*Config)) (string, func()) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.Offline = b.TempDir(), "127.0.0.1:0", true
	cfg.Logger = slog.New(slog.DiscardHandler)
	mutate(&cfg)
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan struct{})
	go func() { n.Run(ctx, func(a net.Addr) { addrc <- a }); close(done) }()
	return "http://" + (<-addrc).String(), func() { cancel(); <-done }
}

// BenchmarkSchemaIngest compares NDJSON ingest over HTTP (1,000 events per
// request, 4 clients) on a node with a schema registry that validates
// every payload against one without. One op is one request.
func BenchmarkSchemaIngest(b *testing.B) {
	body := ndjsonBody()
	path := filepath.Join(b.TempDir(), "schemas.json")
	if err := os.WriteFile(path, []byte(benchSchemas), 0o600); err != nil {
		b.Fatal(err)
	}
	const clients = 4
	run := func(b *testing.B, mutate func(*Config)) float64 {
		url, stop := benchNodeWith(b, mutate)
		defer stop()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		return parallel(b, clients, func() error {
			resp, err := client.Post(url+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("status %d: %s", resp.StatusCode, msg)
			}
			return nil
		})
	}
	b.Run("no-registry", func(b *testing.B) {
		benchRates["no-registry"] = run(b, func(*Config) {})
	})
	b.Run("registry", func(b *testing.B) {
		rate := run(b, func(c *Config) { c.SchemasFile = path })
		if base := benchRates["no-registry"]; base > 0 {
			b.ReportMetric(rate/base, "x-no-registry")
		}
	})
}
