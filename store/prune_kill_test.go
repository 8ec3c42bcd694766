package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
)

// TestPruneKillHelper is the child of TestKillDuringPrune: it ingests and
// prunes behind its own head until killed, printing each ack once durable.
func TestPruneKillHelper(t *testing.T) {
	dir := os.Getenv("RUMOR_PRUNE_CHILD")
	if dir == "" {
		t.Skip("child process of TestKillDuringPrune")
	}
	k := newKey(t, 60)
	cfg := testConfig(dir, k)
	cfg.SegmentBytes = 1 << 20
	s, err := Open(cfg)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	go func() {
		for {
			head := s.Summary().VersionVector[k.origin]
			if head > 300 {
				if _, err := s.Prune(context.Background(), map[string]uint64{k.origin: head - 300}); err != nil {
					fmt.Println("prune:", err)
					os.Exit(2)
				}
			}
		}
	}()
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		acks, err := s.Ingest(context.Background(), padded(50, 1000, int64(i)))
		if err != nil {
			fmt.Println("ingest:", err)
			os.Exit(2)
		}
		for _, a := range acks {
			fmt.Fprintf(w, "%d %s\n", a.Seq, a.EventID)
		}
		w.Flush()
	}
}

// A node killed with SIGKILL while pruning loses no acknowledged event: on
// restart every acknowledged event is either still held or below the
// floor, everything in the context above the floor is readable and sealed,
// and the next Prune removes what the killed one left below the floor.
func TestKillDuringPrune(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rnd := killSeed(t)
	dir := t.TempDir()
	acked := map[uint64]string{}
	for round := 0; round < 4; round++ {
		runUntilKilled(t, dir, 500+rnd.IntN(3000), acked)
		checkAfterKill(t, dir, acked)
	}
}

// runUntilKilled runs the child on dir and kills it with SIGKILL once it
// acknowledged at least n more events, recording every ack it printed.
func runUntilKilled(t *testing.T, dir string, n int, acked map[uint64]string) {
	t.Helper()
	cmd, sc := startChild(t, "TestPruneKillHelper", "RUMOR_PRUNE_CHILD="+dir)
	got := 0
	for sc.Scan() {
		seq, id, ok := strings.Cut(sc.Text(), " ")
		v, err := strconv.ParseUint(seq, 10, 64)
		if !ok || err != nil {
			t.Fatalf("child: %s", sc.Text())
		}
		acked[v] = id
		if got++; got == n {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acks printed before the kill landed
		if seq, id, ok := strings.Cut(sc.Text(), " "); ok {
			if v, err := strconv.ParseUint(seq, 10, 64); err == nil {
				acked[v] = id
			}
		}
	}
	if err := cmd.Wait(); err == nil || got < n {
		t.Fatalf("child ended on its own after %d acks: %v", got, err)
	}
}

func checkAfterKill(t *testing.T, dir string, acked map[uint64]string) {
	t.Helper()
	k := newKey(t, 60)
	cfg := testConfig(dir, k)
	cfg.SegmentBytes = 1 << 20
	s := openStore(t, cfg)
	defer s.Close()
	floor, head := s.Floor(k.origin), s.Summary().VersionVector[k.origin]
	for seq, id := range acked {
		d := crdt.Dot{Origin: k.origin, Seq: seq}
		if !s.Holds(d) {
			t.Fatalf("acknowledged event %v lost (floor %d, head %d)", d, floor, head)
		}
		if seq <= floor {
			continue
		}
		e, err := s.Get(d)
		if err != nil || e.ID.String() != id {
			t.Fatalf("acknowledged event %v above the floor %d unreadable: %v", d, floor, err)
		}
	}
	next := floor + 1
	for next <= head {
		events, seal, err := s.ReadRun(k.origin, next, head, 1<<20)
		if err != nil || len(events) == 0 || events[0].Seq != next {
			t.Fatalf("events from %d (floor %d, head %d) unreadable: %v", next, floor, head, err)
		}
		if seal == nil && events[len(events)-1].Seq == head {
			t.Fatal("the head is not sealed")
		}
		next = events[len(events)-1].Seq + 1
	}
	if _, err := s.Prune(context.Background(), map[string]uint64{k.origin: floor}); err != nil {
		t.Fatal(err)
	}
	if floor > 0 {
		if _, err := s.Get(crdt.Dot{Origin: k.origin, Seq: floor}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("event at the floor %d readable after the cleanup: %v", floor, err)
		}
	}
	t.Logf("killed at head %d, floor %d, %d acks so far", head, floor, len(acked))
}
