package budget

import (
	"testing"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

func TestSetAccountsPerPeer(t *testing.T) {
	clk := clock.NewManual(t0)
	s := NewSet(clk)
	const rate = 4096 // burst 1024
	if w := s.Reserve("a", 1000, 0); w != 0 {
		t.Fatalf("unlimited waited %v", w)
	}
	if _, ok := s.Peer("a"); ok {
		t.Fatal("an unlimited reservation was accounted")
	}
	if w := s.Reserve("a", 1024, rate); w != 0 {
		t.Fatalf("the burst waited %v", w)
	}
	if w := s.Reserve("a", 2048, rate); w != 500*time.Millisecond {
		t.Fatalf("2 KiB over the burst at 4 KiB/s waited %v, want 500ms", w)
	}
	if w := s.Reserve("b", 1024, rate); w != 0 {
		t.Fatalf("peer b waited %v for a's traffic", w)
	}
	clk.Advance(time.Second)
	if w := s.Reserve("a", 1024, rate); w != 0 {
		t.Fatalf("after a second a waited %v", w)
	}
	a, _ := s.Peer("a")
	want := PeerStats{Rate: rate, Burst: 1024, Bytes: 4096, ThrottledBytes: 2048, Waited: 500 * time.Millisecond,
		First: t0, Last: t0.Add(time.Second)}
	if a != want {
		t.Fatalf("a: %+v\nwant %+v", a, want)
	}
	if tot := s.Totals(); tot != (Totals{Bytes: 5120, ThrottledBytes: 2048, Waited: 500 * time.Millisecond}) {
		t.Fatalf("totals %+v", tot)
	}
}

func TestSetForgetsIdlePeers(t *testing.T) {
	clk := clock.NewManual(t0)
	s := NewSet(clk)
	for i := range maxIdlePeers {
		s.Reserve(string(rune('A'+i%26))+string(rune(i)), 10, 4096)
	}
	clk.Advance(2 * time.Minute)
	s.Reserve("new", 10, 4096)
	if len(s.peers) != 1 {
		t.Fatalf("%d peers kept, want only the new one", len(s.peers))
	}
	if tot := s.Totals(); tot.Bytes != 10*(maxIdlePeers+1) {
		t.Fatalf("totals forgot bytes: %+v", tot)
	}
}
