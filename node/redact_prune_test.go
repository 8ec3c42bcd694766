package node

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// A redaction reaches a device that already pruned its target (archived,
// then older than the device's window): the device records it, keeps
// syncing and converges with the others, also after a restart. (Its store
// used to fail on it, and again at every restart.)
func TestRedactionOfAPrunedEvent(t *testing.T) {
	d := startTestNode(t, "", nil)
	e := startTestNode(t, "", retentionNode(time.Millisecond, 0), d.addr(t))
	s := startTestNode(t, "", archivingSink(filepath.Join(t.TempDir(), "archive"), 100), d.addr(t))
	id := postJSON(t, d.url, `{"type":"door.open","payload":{"value":7}}`)
	d.emit(t, 4, "door.open")
	waitFor(t, 10*time.Second, "e to learn that the sink archived the events", func() bool { return e.Replicator().Archived()[d.ID()] == 5 })
	time.Sleep(2 * time.Millisecond)
	if _, err := e.RetentionPass(context.Background()); err != nil || e.Store().Floor(d.ID()) != 5 {
		t.Fatalf("e's pass: floor %d, %v", e.Store().Floor(d.ID()), err)
	}
	if code, _, body := redactVia(t, d.url, id); code != http.StatusAccepted {
		t.Fatalf("redact: %d %s", code, body)
	}
	d.emit(t, 3, "door.open")
	waitFor(t, 20*time.Second, "the mesh to converge after the redaction", func() bool { return converged([]*testNode{d, e, s}, 9) })
	if err := e.Store().Err(); err != nil {
		t.Fatalf("e's store: %v", err)
	}
	e.stop()
	e = startTestNode(t, e.dir, retentionNode(time.Millisecond, 0), d.addr(t))
	d.emit(t, 2, "door.open")
	waitFor(t, 20*time.Second, "the mesh to converge after e's restart", func() bool { return converged([]*testNode{d, e, s}, 11) })
}
