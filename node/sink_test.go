package node

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/sink"
)

// TestSinkArchivesTheMesh runs a device and a sink on loopback: the sink
// is a sink in membership, receives the device's events and their blob,
// and archives them; GET /v1/archive lists the files on the sink and
// answers 404 on the device.
func TestSinkArchivesTheMesh(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "archive")
	dev := startTestNode(t, "", nil)
	defer dev.stop()
	s := startTestNode(t, "", func(c *Config) {
		c.Role, c.Archive, c.ArchiveRows, c.ArchiveAge = RoleSink, archive, 40, 100*time.Millisecond
	}, dev.addr(t))
	defer s.stop()

	blob := []byte("a picture of the north door")
	c, _, err := dev.Blobs().Put(context.Background(), bytes.NewReader(blob), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	dev.emit(t, 90, "door.open")
	if _, err := dev.Store().Ingest(context.Background(), []event.Input{{Type: "photo", Payload: json.RawMessage(`{}`), Blobs: []cid.Cid{c}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the sink to archive the device's 91 events", func() bool {
		return s.Archiver().Watermarks()[dev.ID()] == 91
	})
	waitFor(t, 10*time.Second, "the device to see the sink's role", func() bool {
		for _, m := range dev.Mesh().Members() {
			if m.ID.String() == s.ID() && m.Role == mesh.RoleSink {
				return true
			}
		}
		return false
	})
	got, err := os.ReadFile(filepath.Join(archive, "blobs", c.String()))
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("archived blob: %q, %v", got, err)
	}

	var list api.ArchiveList
	getJSONStatus(t, s.url+"/v1/archive?device="+dev.ID(), http.StatusOK, &list)
	rows := uint64(0)
	for _, f := range list.Files {
		if _, err := os.Stat(filepath.Join(archive, filepath.FromSlash(f.Name))); err != nil || f.Rows > 40 {
			t.Fatalf("listed %+v: %v", f, err)
		}
		if pf, err := sink.ParseFileName(f.Name); err != nil || pf.First != f.First || pf.Last != f.Last || f.Rows != f.Last-f.First+1 {
			t.Fatalf("listed %+v: %v", f, err)
		}
		rows += f.Rows
	}
	if !list.Listed || rows != 91 || list.Watermarks[dev.ID()] != 91 {
		t.Fatalf("archive listing: %+v", list)
	}
	var e struct{ Error string }
	getJSONStatus(t, dev.url+"/v1/archive", http.StatusNotFound, &e)
	if !strings.Contains(e.Error, "sink") {
		t.Fatalf("device's answer: %q", e.Error)
	}
	getJSONStatus(t, s.url+"/v1/archive?after=3", http.StatusBadRequest, &e)
}

func TestArchiveNeedsSink(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Archive = t.TempDir()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "sink") {
		t.Fatalf("archive on a device: %v", err)
	}
	cfg.Role, cfg.ArchiveRows = RoleSink, 0
	if err := cfg.Validate(); err == nil {
		t.Fatal("0 archive rows accepted")
	}
	cfg.ArchiveRows, cfg.Retention.PruneWhenAllHave = 10, true
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "prune-when-all-have") {
		t.Fatalf("a sink pruning what all have: %v", err)
	}
}

func getJSONStatus(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %s, want %d", url, resp.Status, code)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
