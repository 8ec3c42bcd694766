package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// A batch of events spread over many windows (a backfill) dirties
// thousands of aggregates: the index transaction must split before badger
// refuses it, both when ingesting and when replaying the log.
func TestBackfillOverManyWindows(t *testing.T) {
	k := newKey(t, 70)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	in := make([]event.Input, 8192) // one group; every event in a day, hour and minute of its own
	for i := range in {
		in[i] = event.Input{Type: "backfill", Schema: 1, TS: int64(i) * 86_400_000, HasTS: true,
			Payload: json.RawMessage(fmt.Sprintf(`{"value":%d}`, i))}
	}
	ingest(t, s, in)
	ingest(t, s, in)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Aggregates("backfill", crdt.Minute, -1<<62, 1<<62)
	if err != nil || len(rows) != 8192 || rows[7].Agg.Count != 2 {
		t.Fatalf("%d minute aggregates, %v", len(rows), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	if got := s.Summary().Events; got != 16384 {
		t.Fatalf("%d events after restart", got)
	}
}
