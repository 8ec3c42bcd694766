package store

import (
	"context"
	"testing"
	"time"
)

// A node whose clock followed a peer's ahead, and that pruned every event
// it held (its own head included), keeps its clock across a restart: a new
// event is stamped above the ones it issued before, not at its own
// clock's reading.
func TestHLCSurvivesPruningTheHead(t *testing.T) {
	ahead, _ := skewedStore(t, newKey(t, 54), t.TempDir(), 30*time.Second)
	defer ahead.Close()
	dir := t.TempDir()
	local, _ := skewedStore(t, newKey(t, 55), dir, 0)
	ingest(t, ahead, inputs(3, "x"))
	copyAll(t, ahead, local)
	acks := ingest(t, local, inputs(2, "y"))
	last := hlcOfAck(acks[1])
	res, err := local.Prune(context.Background(), map[string]uint64{local.Origin(): 2, ahead.Origin(): 3})
	if err != nil || res.Floors[local.Origin()] != 2 || res.Floors[ahead.Origin()] != 3 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}
	local, _ = skewedStore(t, newKey(t, 55), dir, time.Second) // restarted a second later, 29 s behind its last stamp
	defer local.Close()
	if h := local.HLC(); h.Compare(last) < 0 {
		t.Fatalf("HLC after the restart %v, below the last stamp issued %v", h, last)
	}
	if h := hlcOfAck(ingest(t, local, inputs(1, "y"))[0]); h.Compare(last) <= 0 {
		t.Fatalf("new event stamped %v, not above the last one issued before the restart, %v", h, last)
	}
}
