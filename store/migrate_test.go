package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

// fixtureKeys are the keys testdata/v1 was written with (testdata/README.md).
func fixtureKeys(t testing.TB) (testKey, testKey) { return newKey(t, 41), newKey(t, 42) }

// copyFixture copies the v1 data directory to a fresh temporary directory.
func copyFixture(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("testdata/v1", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/v1", path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// received is one event as ScanReceived yields it.
type received struct {
	e  event.JSON
	at int64
}

func scanReceived(t testing.TB, s *Store) []received {
	t.Helper()
	var out []received
	if err := s.ScanReceived(Query{}, func(e *event.Event, at int64) error {
		out = append(out, received{e.ToJSON(), at})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkMigrated checks that the store at dir holds exactly the fixture's
// events, at format 2, each with the received time migration gives it.
func checkMigrated(t *testing.T, s *Store) {
	t.Helper()
	var want []event.JSON
	b, err := os.ReadFile("testdata/v1.events.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got := scanReceived(t, s)
	if len(got) != len(want) || len(want) != 462 {
		t.Fatalf("%d events after migration, fixture lists %d (want 462)", len(got), len(want))
	}
	sort.Slice(want, func(i, j int) bool { // Scan's order: by device, then seq
		return want[i].DeviceID < want[j].DeviceID || want[i].DeviceID == want[j].DeviceID && want[i].Seq < want[j].Seq
	})
	for i := range got {
		// The fixture was listed by the v1 code, before events showed
		// their HLC, which is a function of the id.
		if want[i].HLC == "" {
			want[i].HLC = event.HLCOf(uuid.MustParse(want[i].EventID)).String()
		}
		g, _ := json.Marshal(got[i].e)
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Fatalf("event %d: got %s, want %s", i, g, w)
		}
	}
	checkReceivedV1(t, got)
	if v, err := s.readFormat(); err != nil || v != formatVersion {
		t.Fatalf("format after migration: %d, %v", v, err)
	}
	if after, err := s.migrateProgress(formatVersion); err != nil || after != nil {
		t.Fatalf("migration progress left behind: %x %v", after, err)
	}
	checkMigratedIDs(t, s)
}

// checkReceivedV1 checks the migrated received times: each is the id time
// of a later-or-same event of its origin (its run's newest), never before
// the event's own id, and an origin's newest event carries its own.
func checkReceivedV1(t *testing.T, got []received) {
	t.Helper()
	idTimes := map[string]map[int64]bool{}
	for _, r := range got {
		if idTimes[r.e.DeviceID] == nil {
			idTimes[r.e.DeviceID] = map[int64]bool{}
		}
		idTimes[r.e.DeviceID][idTime(uuid.MustParse(r.e.EventID))] = true
	}
	for i, r := range got {
		own := idTime(uuid.MustParse(r.e.EventID))
		if r.at < own || !idTimes[r.e.DeviceID][r.at] {
			t.Fatalf("event %s/%d: received %d, own id time %d", r.e.DeviceID, r.e.Seq, r.at, own)
		}
		if (i+1 == len(got) || got[i+1].e.DeviceID != r.e.DeviceID) && r.at != own {
			t.Fatalf("newest event of %s: received %d, want its id time %d", r.e.DeviceID, r.at, own)
		}
	}
}

func TestMigrateV1Fixture(t *testing.T) {
	dir := copyFixture(t)
	ka, _ := fixtureKeys(t)
	cfg := testConfig(dir, ka)
	cfg.Clock = clockAt(1_800_000_000_000)
	s := openStore(t, cfg)
	checkMigrated(t, s)
	// The migrated store carries on: new events get the indexer's time,
	// seqs continue, and a restart needs no migration.
	acks := ingest(t, s, inputs(3, "after"))
	if acks[0].Seq != 402 {
		t.Fatalf("first seq after migration %d, want 402", acks[0].Seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	after := 0
	for _, r := range scanReceived(t, s) {
		if r.e.Type == "after" {
			after++
			if r.e.DeviceID != ka.origin || r.e.Seq <= 401 || r.at != 1_800_000_000_000 {
				t.Fatalf("new event %s/%d received %d", r.e.DeviceID, r.e.Seq, r.at)
			}
		}
	}
	if after != 3 {
		t.Fatalf("%d new events, want 3", after)
	}
	checkLog(t, s, 404)
}

// TestMigrateInterrupted fails the migration after each possible batch in
// turn (of v1 to v2, then of v2 to v3), then reopens: the result is always
// the complete migration.
func TestMigrateInterrupted(t *testing.T) {
	ka, _ := fixtureKeys(t)
	errStopped := errors.New("stopped by test")
	stoppedAt := map[byte]int{} // format versions the stops left
	for stopAt := 1; ; stopAt++ {
		dir := copyFixture(t)
		cfg := testConfig(dir, ka)
		cfg.migrateBatch = 1
		batches := 0
		cfg.migrateHook = func(batch int) error {
			batches = batch
			if batch == stopAt {
				return errStopped
			}
			return nil
		}
		s, err := Open(cfg)
		if err == nil { // stopAt is past the last batch: done
			s.Close()
			if stoppedAt[1] < 3 || stoppedAt[2] < 3 {
				t.Fatalf("migration of the fixture took only %d batches: stops at versions %v", batches, stoppedAt)
			}
			return
		}
		if !errors.Is(err, errStopped) {
			t.Fatalf("stop at batch %d: %v", stopAt, err)
		}
		stoppedAt[rawFormat(t, cfg)]++
		cfg.migrateHook = nil
		s = openStore(t, cfg)
		checkMigrated(t, s)
		s.Close()
	}
}

// rawFormat reads the format version of cfg's closed data directory.
func rawFormat(t *testing.T, cfg Config) byte {
	t.Helper()
	db, err := openRawBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	if err := db.View(func(txn *badgerTxn) error {
		item, err := txn.Get(keyFormat)
		if err == nil {
			v, err = item.ValueCopy(nil)
		}
		return err
	}); err != nil || len(v) != 1 {
		t.Fatalf("format marker %x: %v", v, err)
	}
	return v[0]
}

// TestMigrateKilled kills a process with SIGKILL in the middle of a
// migration (after the second batch of v1 to v2, and after the second of v2
// to v3, one run per batch) and reopens the directory.
func TestMigrateKilled(t *testing.T) {
	if dir := os.Getenv("RUMOR_MIGRATE_CHILD"); dir != "" {
		at, err := strconv.Atoi(os.Getenv("RUMOR_MIGRATE_KILL_AT"))
		if err != nil {
			t.Fatal(err)
		}
		migrateChild(t, dir, at)
		return
	}
	runs := fixtureRuns(t)
	for _, c := range []struct {
		at      int
		version byte
	}{{2, 1}, {runs + 2, 2}} {
		dir := copyFixture(t)
		cmd, lines := startChild(t, "TestMigrateKilled", "RUMOR_MIGRATE_CHILD="+dir, fmt.Sprintf("RUMOR_MIGRATE_KILL_AT=%d", c.at))
		for lines.Scan() && lines.Text() != fmt.Sprintf("batch %d", c.at) {
		}
		if lines.Err() != nil {
			t.Fatal(lines.Err())
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("child: %v", err)
		}
		ka, _ := fixtureKeys(t)
		cfg := testConfig(dir, ka)
		if v := rawFormat(t, cfg); v != c.version {
			t.Fatalf("killed after batch %d at format %d, want %d", c.at, v, c.version)
		}
		s := openStore(t, cfg)
		checkMigrated(t, s)
		s.Close()
	}
}

// fixtureRuns counts the index runs of the v1 fixture: the batches of
// each migration at one run per batch.
func fixtureRuns(t *testing.T) int {
	ka, _ := fixtureKeys(t)
	db, err := openRawBadger(testConfig(copyFixture(t), ka))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.View(func(txn *badgerTxn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvent}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("%d runs in the fixture: %v", n, err)
	}
	return n
}

// migrateChild migrates dir one key per batch, announcing each batch on
// stdout and hanging after batch at, until the parent kills it.
func migrateChild(t *testing.T, dir string, at int) {
	ka, _ := fixtureKeys(t)
	cfg := testConfig(dir, ka)
	cfg.migrateBatch = 1
	cfg.migrateHook = func(batch int) error {
		fmt.Printf("batch %d\n", batch)
		if batch == at {
			time.Sleep(time.Minute) // the parent kills us here
		}
		return nil
	}
	if _, err := Open(cfg); err != nil {
		t.Fatal(err)
	}
	t.Fatal("migration finished before the parent killed it")
}

func TestNewerFormatNamesBothVersions(t *testing.T) {
	cfg := testConfig(t.TempDir(), newKey(t, 9))
	s := openStore(t, cfg)
	s.Close()
	db, err := openRawBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badgerTxn) error { return txn.Set(keyFormat, []byte{7}) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(cfg)
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "version 7") || !strings.Contains(err.Error(), fmt.Sprintf("up to %d", formatVersion)) {
		t.Fatalf("open format 7: %v", err)
	}
}

func TestIDTime(t *testing.T) {
	for i := 0; i < 100; i++ {
		id, err := uuid.NewV7()
		if err != nil {
			t.Fatal(err)
		}
		sec, nsec := id.Time().UnixTime()
		if want := sec*1000 + nsec/1e6; idTime(id) != want {
			t.Fatalf("idTime(%s) = %d, want %d", id, idTime(id), want)
		}
	}
}

func clockAt(ms int64) *clock.Manual { return clock.NewManual(time.UnixMilli(ms)) }
