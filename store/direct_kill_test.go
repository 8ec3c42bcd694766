package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// directSource is the source log the direct-write kill test copies: runs of
// 700 events of about 1 KiB, each a bulk record on the receiving side.
func directSource(t *testing.T, dir string) *Store {
	s := openStore(t, testConfig(dir, newKey(t, 63)))
	for i := 0; i < 24; i++ {
		ingest(t, s, padded(700, 1000, int64(i)*1000))
	}
	return s
}

// applyRuns applies src's runs to dst from seq from on, calling done with
// the last seq of each run once it is durable.
func applyRuns(src, dst *Store, from uint64, done func(uint64)) error {
	origin := src.Origin()
	for last := src.Summary().VersionVector[origin]; from <= last; {
		evs, seal, err := src.ReadRun(origin, from, from, 8<<20)
		if err != nil || seal == nil {
			return fmt.Errorf("read from %d: %v (seal %v)", from, err, seal)
		}
		encs, _, err := src.ReadRunEncoded(origin, from, from, 8<<20)
		if err != nil {
			return err
		}
		raw := make([][]byte, len(encs))
		for i := range encs {
			raw[i] = encs[i].Bytes
		}
		wait, err := dst.ApplyAsync(context.Background(), evs, raw, []event.Seal{*seal})
		if err != nil {
			return err
		}
		if _, err := wait(); err != nil {
			return err
		}
		done(seal.Seq)
		from = seal.Seq + 1
	}
	return nil
}

// TestDirectKillHelper is the child of TestKillDuringDirectWrites: it
// applies the source's runs and prints the last seq of each once durable.
func TestDirectKillHelper(t *testing.T) {
	dir := os.Getenv("RUMOR_DIRECT_CHILD")
	if dir == "" {
		t.Skip("child process of TestKillDuringDirectWrites")
	}
	src, err := Open(testConfig(filepath.Join(dir, "src"), newKey(t, 63)))
	if err != nil {
		fmt.Println("open source:", err)
		os.Exit(2)
	}
	dst, err := Open(testConfig(filepath.Join(dir, "dst"), newKey(t, 64)))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	err = applyRuns(src, dst, dst.Summary().VersionVector[src.Origin()]+1, func(seq uint64) {
		fmt.Fprintln(w, seq)
		w.Flush()
	})
	fmt.Println("done:", err)
	os.Exit(3)
}

// A node killed with SIGKILL while it writes a catch-up's records past the
// page cache loses no acknowledged event: on restart it holds every run it
// acknowledged, byte for byte as the source has it, and takes the rest.
func TestKillDuringDirectWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rnd := killSeed(t)
	dir := t.TempDir()
	src := directSource(t, filepath.Join(dir, "src"))
	origin, total := src.Origin(), src.Summary().VersionVector[src.Origin()]
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	var acked uint64
	for round := 0; round < 3; round++ {
		cmd, sc := startChild(t, "TestDirectKillHelper", "RUMOR_DIRECT_CHILD="+dir)
		for want, got := 1+rnd.IntN(4), 0; got < want && sc.Scan(); got++ {
			v, err := strconv.ParseUint(sc.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child: %s", sc.Text())
			}
			acked = max(acked, v)
		}
		time.Sleep(time.Duration(rnd.IntN(20)) * time.Millisecond) // mid-record, some of the time
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() {
			if v, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				acked = max(acked, v)
			}
		}
		cmd.Wait()
		checkDirectCopy(t, dir, origin, acked)
	}
	// Then the rest, in this process, over what the kills left.
	src = openStore(t, testConfig(filepath.Join(dir, "src"), newKey(t, 63)))
	dst := openStore(t, testConfig(filepath.Join(dir, "dst"), newKey(t, 64)))
	err := applyRuns(src, dst, dst.Summary().VersionVector[origin]+1, func(uint64) {})
	src.Close()
	dst.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkDirectCopy(t, dir, origin, total)
}

// checkDirectCopy checks that the copy in dir/dst holds origin's events up
// to at least acked, each as the source holds it.
func checkDirectCopy(t *testing.T, dir, origin string, acked uint64) {
	t.Helper()
	src := openStore(t, testConfig(filepath.Join(dir, "src"), newKey(t, 63)))
	defer src.Close()
	dst := openStore(t, testConfig(filepath.Join(dir, "dst"), newKey(t, 64)))
	defer dst.Close()
	head := dst.Summary().VersionVector[origin]
	if head < acked {
		t.Fatalf("acknowledged up to %d, holds up to %d after the kill", acked, head)
	}
	for seq := uint64(1); seq <= head; seq++ {
		d := crdt.Dot{Origin: origin, Seq: seq}
		a, errA := src.Get(d)
		b, errB := dst.Get(d)
		if errA != nil || errB != nil || !bytes.Equal(a.AppendBinary(nil), b.AppendBinary(nil)) {
			t.Fatalf("event %d differs after the kill (%v, %v)", seq, errA, errB)
		}
	}
	for from := uint64(1); from <= head; { // and in runs, as a sender reads them
		encs, _, err := dst.ReadRunEncoded(origin, from, head, 1<<20)
		if err != nil || len(encs) == 0 {
			t.Fatalf("run from %d: %d events, %v", from, len(encs), err)
		}
		from += uint64(len(encs))
	}
}
