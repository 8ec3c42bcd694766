package series

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

var t0 = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

func newSampler(t *testing.T, n int) (*Sampler, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	cfg := DefaultConfig()
	cfg.Len, cfg.Clock = n, clk
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func TestBucketsFollowTheClock(t *testing.T) {
	s, clk := newSampler(t, 4)
	s.Ingested(3)
	s.Received(2)
	clk.Advance(4 * time.Second) // same 5 s bucket
	s.Ingested(1)
	clk.Advance(6 * time.Second) // two buckets on
	s.Session(100, 40)
	s.Session(10, 5)
	got := s.Snapshot()
	if got.StepSeconds != 5 || got.Len != 4 || got.Now != clk.Now().UnixMilli() {
		t.Fatalf("header = %+v", got)
	}
	want := []Sample{
		{Start: t0.UnixMilli(), Ingested: 4, Received: 2},
		{Start: t0.Add(5 * time.Second).UnixMilli()},
		{Start: t0.Add(10 * time.Second).UnixMilli(), Sessions: 2, BytesIn: 110, BytesOut: 45, MaxDelta: 140},
	}
	assertSamples(t, got.Samples, want)
}

func TestRingForgetsOldBuckets(t *testing.T) {
	s, clk := newSampler(t, 3)
	for i := 1; i <= 5; i++ {
		s.Ingested(i)
		clk.Advance(5 * time.Second)
	}
	// Buckets 0..4 got 1..5; the clock is now in bucket 5 (empty); the ring keeps 3.
	want := []Sample{
		{Start: t0.Add(15 * time.Second).UnixMilli(), Ingested: 4},
		{Start: t0.Add(20 * time.Second).UnixMilli(), Ingested: 5},
		{Start: t0.Add(25 * time.Second).UnixMilli()},
	}
	assertSamples(t, s.Snapshot().Samples, want)

	clk.Advance(time.Hour) // a long quiet spell clears everything
	for _, b := range s.Snapshot().Samples {
		if b.Ingested != 0 {
			t.Fatalf("stale bucket survived: %+v", b)
		}
	}
}

func TestClockSteppingBackKeepsTheHead(t *testing.T) {
	s, clk := newSampler(t, 4)
	clk.Advance(10 * time.Second)
	s.Ingested(1)
	clk.Set(t0)
	s.Ingested(2)
	got := s.Snapshot().Samples
	if len(got) != 3 || got[2].Ingested != 3 {
		t.Fatalf("samples = %+v, want 3 buckets, the last with 3 events", got)
	}
}

func TestServeHTTP(t *testing.T) {
	s, _ := newSampler(t, 4)
	s.Received(7)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/series", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var snap Snapshot
	if err := json.Unmarshal(rec.Body.Bytes(), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Samples) != 1 || snap.Samples[0].Received != 7 {
		t.Fatalf("body = %s", rec.Body)
	}
}

func TestValidate(t *testing.T) {
	for _, mut := range []func(*Config){
		func(c *Config) { c.Step = 0 },
		func(c *Config) { c.Len = 1 },
		func(c *Config) { c.Clock = nil },
	} {
		cfg := DefaultConfig()
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func assertSamples(t *testing.T, got, want []Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
