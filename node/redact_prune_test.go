package node

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/internal/duckdb"
)

// A redaction reaches a device and a sink that already pruned its target
// (archived, then older than their window): they record it, keep syncing
// and converge with the others, also after a restart (their stores used
// to fail on it, and again at every restart), and the sink redacts the
// archived row.
func TestRedactionOfAPrunedEvent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	d := startTestNode(t, "", nil)
	e := startTestNode(t, "", retentionNode(time.Millisecond, 0), d.addr(t))
	s := startTestNode(t, "", both(archivingSink(root, 100), retentionNode(time.Millisecond, 0)), d.addr(t))
	id := postJSON(t, d.url, `{"type":"door.open","payload":{"value":7}}`)
	d.emit(t, 4, "door.open")
	// The sink's watermark can reach e before d's events do (e syncs with
	// d, not with the sink): e prunes only what it holds.
	waitFor(t, 10*time.Second, "e to hold the events and learn that the sink archived them", func() bool {
		return converged([]*testNode{d, e, s}, 5) && e.Replicator().Archived()[d.ID()] == 5
	})
	time.Sleep(2 * time.Millisecond)
	for _, n := range []*testNode{e, s} {
		if _, err := n.RetentionPass(context.Background()); err != nil || n.Store().Floor(d.ID()) != 5 {
			t.Fatalf("%s's pass: floor %d, %v", n.ID(), n.Store().Floor(d.ID()), err)
		}
	}
	if code, _, body := redactVia(t, d.url, id); code != http.StatusAccepted {
		t.Fatalf("redact: %d %s", code, body)
	}
	d.emit(t, 3, "door.open")
	waitFor(t, 20*time.Second, "the mesh to converge after the redaction", func() bool { return converged([]*testNode{d, e, s}, 9) })
	for _, n := range []*testNode{e, s} {
		if err := n.Store().Err(); err != nil {
			t.Fatalf("%s's store: %v", n.ID(), err)
		}
	}
	waitFor(t, 20*time.Second, "the archived row to be redacted", func() bool {
		rows := duckdb.Query[struct {
			Redacted bool `json:"redacted"`
		}](t, "SELECT redacted FROM "+duckdb.Events(root)+" WHERE event_id = '"+id+"'")
		return len(rows) == 1 && rows[0].Redacted
	})
	e.stop()
	e = startTestNode(t, e.dir, retentionNode(time.Millisecond, 0), d.addr(t))
	d.emit(t, 2, "door.open")
	waitFor(t, 20*time.Second, "the mesh to converge after e's restart", func() bool { return converged([]*testNode{d, e, s}, 11) })
}
