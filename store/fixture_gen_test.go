package store

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

func TestGenFixtureV1(t *testing.T) {
	if os.Getenv("GEN_V1") == "" {
		t.Skip()
	}
	dir := "testdata/v1"
	os.RemoveAll(dir)
	ka, kb := newKey(t, 41), newKey(t, 42)
	cfg := testConfig(dir, ka)
	clk := clock.NewManual(time.UnixMilli(1_700_000_000_000))
	cfg.Clock = clk
	a := openStore(t, cfg)
	bcfg := testConfig(t.TempDir(), kb)
	bclk := clock.NewManual(time.UnixMilli(1_700_000_500_000))
	bcfg.Clock = bclk
	b := openStore(t, bcfg)
	ingest(t, a, inputs(100, "door.open"))
	clk.Advance(time.Hour)
	ingest(t, a, inputs(300, "temp"))
	clk.Advance(25 * time.Hour)
	ingest(t, a, inputs(1, "late"))
	for i := 0; i < 7; i++ {
		ingest(t, b, inputs(10, "remote"))
		bclk.Advance(time.Minute)
	}
	bev := allEvents(t, b, kb.origin)
	if _, err := a.Apply(context.Background(), bev[:50], nil); err != nil {
		t.Fatal(err)
	}
	seal, err := b.Seal(kb.origin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(context.Background(), bev[59:], []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	var lines []event.JSON
	for _, o := range []string{ka.origin, kb.origin} {
		for _, e := range allEvents(t, a, o) {
			lines = append(lines, e.ToJSON())
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(lines, "", " ")
	os.WriteFile(filepath.Join("testdata", "v1.events.json"), out, 0o644)
}
