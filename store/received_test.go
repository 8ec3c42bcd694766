package store

import (
	"testing"
	"time"
)

// TestReceivedTimes checks ScanReceived reports the indexer's clock for
// each commit, and keeps it across a restart.
func TestReceivedTimes(t *testing.T) {
	k := newKey(t, 60)
	cfg := testConfig(t.TempDir(), k)
	clk := clockAt(1_700_000_000_000)
	cfg.Clock = clk
	s := openStore(t, cfg)
	ingest(t, s, inputs(300, "a")) // more than one run
	clk.Advance(time.Minute)
	ingest(t, s, inputs(5, "b"))
	check := func(s *Store) {
		t.Helper()
		got := scanReceived(t, s)
		if len(got) != 305 {
			t.Fatalf("%d events", len(got))
		}
		for _, r := range got {
			want := int64(1_700_000_000_000)
			if r.e.Type == "b" {
				want += 60_000
			}
			if r.at != want {
				t.Fatalf("event %d (%s) received %d, want %d", r.e.Seq, r.e.Type, r.at, want)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	s = openStore(t, cfg)
	defer s.Close()
	check(s)
}
