package store

import (
	"context"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

// skewedStore opens a store whose clock reads t0+skew.
func skewedStore(t *testing.T, k testKey, dir string, skew time.Duration) (*Store, *clock.Manual) {
	t.Helper()
	cfg := testConfig(dir, k)
	c := clock.NewManual(time.UnixMilli(1_700_000_000_000).Add(skew))
	cfg.Clock = c
	return openStore(t, cfg), c
}

func hlcOfAck(a Ack) event.HLC { return event.HLCOf(a.EventID) }

// copyAll applies every event of src's own log, with its seal, to dst.
func copyAll(t *testing.T, src, dst *Store) []*event.Event {
	t.Helper()
	events := allEvents(t, src, src.Origin())
	seal, err := src.Seal(src.Origin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Apply(context.Background(), events, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestHLCFollowsPeerAheadWithinBound(t *testing.T) {
	ahead, _ := skewedStore(t, newKey(t, 50), t.TempDir(), 30*time.Second)
	defer ahead.Close()
	local, _ := skewedStore(t, newKey(t, 51), t.TempDir(), 0)
	defer local.Close()
	ingest(t, ahead, inputs(3, "x"))
	events := copyAll(t, ahead, local)
	top := event.HLCOf(events[len(events)-1].ID)
	if got := local.HLC(); got != top {
		t.Fatalf("HLC after applying = %v, want the peer's %v", got, top)
	}
	acks := ingest(t, local, inputs(2, "y"))
	for _, a := range acks {
		if hlcOfAck(a).Compare(top) <= 0 {
			t.Fatalf("local event %v not above the received %v", hlcOfAck(a), top)
		}
	}
	if got := local.ClockSkewed(); len(got) != 0 {
		t.Fatalf("counted skew within the bound: %v", got)
	}
}

func TestHLCDoesNotFollowPeerBeyondBound(t *testing.T) {
	ahead, _ := skewedStore(t, newKey(t, 52), t.TempDir(), 2*time.Minute) // default bound: 1 min
	defer ahead.Close()
	local, _ := skewedStore(t, newKey(t, 53), t.TempDir(), 0)
	defer local.Close()
	ingest(t, local, inputs(1, "y"))
	before := local.HLC()
	ingest(t, ahead, inputs(4, "x"))
	events := copyAll(t, ahead, local)
	if !local.Holds(crdt.Dot{Origin: events[3].Device, Seq: events[3].Seq}) {
		t.Fatal("event from a clock far ahead was not stored")
	}
	if got := local.ClockSkewed()[ahead.Origin()]; got != 4 {
		t.Fatalf("ClockSkewed counted %d events, want 4", got)
	}
	if got := local.HLC(); got != before {
		t.Fatalf("HLC moved from %v to %v on a stamp beyond the bound", before, got)
	}
	acks := ingest(t, local, inputs(1, "y"))
	if h := hlcOfAck(acks[0]); h.MS != 1_700_000_000_000 {
		t.Fatalf("local event stamped %v, want the local clock's millisecond", h)
	}
	// Applying them again (already held) counts nothing more.
	copyAll(t, ahead, local)
	if got := local.ClockSkewed()[ahead.Origin()]; got != 4 {
		t.Fatalf("re-applied events counted again: %d", got)
	}
	// Once the local clock catches up to within the bound, the stamps are
	// followed: a later event from that peer moves the clock.
	local.cfg.Clock.(*clock.Manual).Advance(90 * time.Second)
	ingest(t, ahead, inputs(1, "x"))
	events = copyAll(t, ahead, local)
	if got, want := local.HLC(), event.HLCOf(events[len(events)-1].ID); got != want {
		t.Fatalf("HLC %v, want %v once within the bound", got, want)
	}
}

func TestHLCZeroBoundFollowsNothingAhead(t *testing.T) {
	ahead, _ := skewedStore(t, newKey(t, 54), t.TempDir(), time.Millisecond)
	defer ahead.Close()
	cfg := testConfig(t.TempDir(), newKey(t, 55))
	cfg.MaxClockSkew = 0
	local := openStore(t, cfg)
	defer local.Close()
	ingest(t, ahead, inputs(1, "x"))
	copyAll(t, ahead, local)
	if got := local.ClockSkewed()[ahead.Origin()]; got != 1 {
		t.Fatalf("MaxClockSkew 0: counted %d, want 1", got)
	}
}

func TestHLCRestoredOnReopen(t *testing.T) {
	ahead, _ := skewedStore(t, newKey(t, 56), t.TempDir(), 40*time.Second)
	defer ahead.Close()
	ingest(t, ahead, inputs(3, "x"))
	k := newKey(t, 57)
	dir := t.TempDir()
	local, _ := skewedStore(t, k, dir, 0)
	events := copyAll(t, ahead, local)
	local.Close()
	local, _ = skewedStore(t, k, dir, 0)
	defer local.Close()
	top := event.HLCOf(events[len(events)-1].ID)
	if got := local.HLC(); got != top {
		t.Fatalf("HLC after reopening = %v, want %v", got, top)
	}
	if h := hlcOfAck(ingest(t, local, inputs(1, "y"))[0]); h.Compare(top) <= 0 {
		t.Fatalf("first event after reopening %v not above %v", h, top)
	}
}

func TestHLCOwnPastFollowedAfterClockStepsBack(t *testing.T) {
	k := newKey(t, 58)
	dir := t.TempDir()
	s, _ := skewedStore(t, k, dir, time.Hour) // the clock ran an hour fast...
	last := hlcOfAck(ingest(t, s, inputs(5, "x"))[4])
	s.Close()
	s, _ = skewedStore(t, k, dir, 0) // ...and was corrected while the node was down
	defer s.Close()
	if h := hlcOfAck(ingest(t, s, inputs(1, "x"))[0]); h.Compare(last) <= 0 {
		t.Fatalf("own event %v after the clock stepped back is not above the own log's head %v", h, last)
	}
}

func TestHLCOwnPastFromPeerIsFollowed(t *testing.T) {
	k := newKey(t, 59)
	old, _ := skewedStore(t, k, t.TempDir(), time.Hour)
	ingest(t, old, inputs(3, "x"))
	events := allEvents(t, old, k.origin)
	seal, _ := old.Seal(k.origin)
	old.Close()
	fresh, _ := skewedStore(t, k, t.TempDir(), 0) // wiped, clock corrected
	defer fresh.Close()
	if _, err := fresh.Apply(context.Background(), events, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	if len(fresh.ClockSkewed()) != 0 {
		t.Fatal("own past counted as a skewed peer")
	}
	top := event.HLCOf(events[2].ID)
	if h := hlcOfAck(ingest(t, fresh, inputs(1, "x"))[0]); h.Compare(top) <= 0 {
		t.Fatalf("own event %v not above own past %v", h, top)
	}
}

func TestMaxClockSkewValidated(t *testing.T) {
	for _, d := range []time.Duration{-time.Millisecond, MaxClockSkewLimit + time.Millisecond} {
		cfg := testConfig(t.TempDir(), newKey(t, 60))
		cfg.MaxClockSkew = d
		if _, err := Open(cfg); err == nil {
			t.Errorf("MaxClockSkew %v accepted", d)
		}
	}
}
