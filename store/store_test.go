package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
)

type testKey struct {
	key    crypto.PrivKey
	origin string
}

func newKey(t testing.TB, seed uint64) testKey {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{key: key, origin: id.String()}
}

func testConfig(dir string, k testKey) Config {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Origin, cfg.Signer = dir, k.origin, k.key
	cfg.Clock = clock.NewManual(time.UnixMilli(1_700_000_000_000))
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func inputs(n int, typ string) []event.Input {
	out := make([]event.Input, n)
	for i := range out {
		out[i] = event.Input{Type: typ, Schema: 1, Payload: json.RawMessage(fmt.Sprintf(`{"value":%d}`, i))}
	}
	return out
}

func ingest(t testing.TB, s *Store, in []event.Input) []Ack {
	t.Helper()
	acks, err := s.Ingest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return acks
}

// checkLog verifies that the local log holds seqs 1..n, chained and sealed.
func checkLog(t *testing.T, s *Store, n uint64) {
	t.Helper()
	var events []*event.Event
	err := s.Scan(Query{Device: s.Origin()}, func(e *event.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(events)) != n {
		t.Fatalf("scan found %d events, want %d", len(events), n)
	}
	if n == 0 {
		return
	}
	seal, err := s.Seal(s.Origin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := event.VerifyRange(event.Hash{}, events, &seal); err != nil {
		t.Fatalf("log does not verify: %v", err)
	}
	if got := s.Summary().VersionVector[s.Origin()]; got != n {
		t.Fatalf("version vector says %d, want %d", got, n)
	}
}

func TestIngestAndRead(t *testing.T) {
	k := newKey(t, 1)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	acks := ingest(t, s, inputs(3, "click"))
	for i, a := range acks {
		if a.Seq != uint64(i+1) || a.DeviceID != k.origin || a.EventID.Version() != 7 {
			t.Fatalf("ack %d = %+v", i, a)
		}
		e, err := s.GetByID(a.EventID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != a.Seq || e.Type != "click" || e.TS != 1_700_000_000_000 {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	checkLog(t, s, 3)
	if _, err := s.Get(crdt.Dot{Origin: k.origin, Seq: 4}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing dot: err %v", err)
	}
}

func TestScanFilters(t *testing.T) {
	k := newKey(t, 2)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	ingest(t, s, inputs(5, "a"))
	ingest(t, s, inputs(5, "b"))
	cases := []struct {
		name string
		q    Query
		want []uint64
	}{
		{"all", Query{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"after", Query{Device: k.origin, After: 7}, []uint64{8, 9, 10}},
		{"type", Query{Type: "b", Limit: 2}, []uint64{6, 7}},
		{"limit", Query{Limit: 1}, []uint64{1}},
		{"other device", Query{Device: newKey(t, 99).origin}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint64
			if err := s.Scan(tc.q, func(e *event.Event) error { got = append(got, e.Seq); return nil }); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestConcurrentIngestIsContiguous(t *testing.T) {
	k := newKey(t, 3)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	const writers, per = 32, 50
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				acks, err := s.Ingest(context.Background(), inputs(3, "t"))
				if err != nil {
					t.Error(err)
					return
				}
				// An acknowledged event is readable at once, even while
				// other batches' index commits finish around it.
				last := acks[len(acks)-1]
				if _, err := s.Get(crdt.Dot{Origin: last.DeviceID, Seq: last.Seq}); err != nil {
					t.Errorf("acknowledged seq %d: %v", last.Seq, err)
				}
				if n := s.Summary().Events; n < last.Seq {
					t.Errorf("summary counts %d events after seq %d was acknowledged", n, last.Seq)
				}
				if n := s.Len(); n < last.Seq {
					t.Errorf("Len counts %d events after seq %d was acknowledged", n, last.Seq)
				}
				mu.Lock()
				for j, a := range acks {
					if seen[a.Seq] || (j > 0 && a.Seq != acks[j-1].Seq+1) {
						t.Errorf("seq %d duplicated or request split", a.Seq)
					}
					seen[a.Seq] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	checkLog(t, s, writers*per*3)
	if n, sum := s.Len(), s.Summary().Events; n != writers*per*3 || sum != n {
		t.Fatalf("Len %d, Summary %d, want %d", n, sum, writers*per*3)
	}
}

func TestRestartContinuesChain(t *testing.T) {
	k := newKey(t, 4)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(10, "x"))
	digest := s.Summary().Digest
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	if s.Summary().Digest != digest {
		t.Fatal("digest changed across restart")
	}
	acks := ingest(t, s, inputs(1, "x"))
	if acks[0].Seq != 11 {
		t.Fatalf("next seq after restart = %d, want 11", acks[0].Seq)
	}
	checkLog(t, s, 11)
}

func TestRecoverFromLogWhenIndexIsLost(t *testing.T) {
	k := newKey(t, 5)
	cfg := testConfig(t.TempDir(), k)
	cfg.SegmentBytes = 1 << 20
	s := openStore(t, cfg)
	for i := 0; i < 40; i++ {
		ingest(t, s, inputs(250, "bulk")) // ~30 KB per request: several segments
	}
	sum := s.Summary()
	rows, err := s.Aggregates("bulk", crdt.Day, 0, 1<<62)
	if err != nil || len(rows) != 1 {
		t.Fatalf("aggregates: %v %v", rows, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cfg.Dir, "db")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	if got := s.Summary(); got.Digest != sum.Digest || got.Events != 10_000 {
		t.Fatalf("after rebuild: %d events, digest equal %v", got.Events, got.Digest == sum.Digest)
	}
	rows2, err := s.Aggregates("bulk", crdt.Day, 0, 1<<62)
	if err != nil || len(rows2) != 1 || !rows2[0].Agg.Equal(rows[0].Agg) {
		t.Fatalf("aggregates differ after rebuild: %v", err)
	}
	checkLog(t, s, 10_000)
}

func TestTornTailIsCut(t *testing.T) {
	k := newKey(t, 6)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(7, "x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ids, _ := (&segments{dir: filepath.Join(cfg.Dir, "log")}).list()
	path := segmentPath(filepath.Join(cfg.Dir, "log"), ids[len(ids)-1])
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A record header promising 1000 bytes, then only a few: a crash mid-write.
	f.Write([]byte{0, 0, 3, 232, 1, 2, 3, 4, 9, 9, 9})
	f.Close()
	s = openStore(t, cfg)
	defer s.Close()
	acks := ingest(t, s, inputs(1, "x"))
	if acks[0].Seq != 8 {
		t.Fatalf("seq after torn tail = %d", acks[0].Seq)
	}
	checkLog(t, s, 8)
}

func TestAggregates(t *testing.T) {
	k := newKey(t, 7)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	in := []event.Input{
		{Type: "temp", TS: 60_000, HasTS: true, Payload: json.RawMessage(`{"value":10}`)},
		{Type: "temp", TS: 61_000, HasTS: true, Payload: json.RawMessage(`{"value":30}`)},
		{Type: "temp", TS: 125_000, HasTS: true, Payload: json.RawMessage(`{"other":1}`)},
		{Type: "door", TS: 60_500, HasTS: true, Payload: json.RawMessage(`{}`)},
	}
	ingest(t, s, in)
	rows, err := s.Aggregates("temp", crdt.Minute, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Key.Start != 60_000 || rows[1].Key.Start != 120_000 {
		t.Fatalf("rows %+v", rows)
	}
	a := rows[0].Agg
	if a.Count != 2 || a.Sum != 40 || a.Min != 10 || a.Max != 30 || a.Distinct() != 1 {
		t.Fatalf("minute aggregate %+v", a.Summary())
	}
	if rows[1].Agg.Count != 1 || rows[1].Agg.Values != 0 {
		t.Fatalf("second minute %+v", rows[1].Agg.Summary())
	}
	all, _ := s.Aggregates("", crdt.Hour, 0, 1<<62)
	if len(all) != 2 {
		t.Fatalf("all types hourly: %d rows", len(all))
	}
}

func TestClosedStoreRefuses(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir(), newKey(t, 8)))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), inputs(1, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("ingest after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close:", err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	cfg := testConfig(t.TempDir(), newKey(t, 9))
	s := openStore(t, cfg)
	s.Close()
	db, err := openRawBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badgerTxn) error { return txn.Set(keyFormat, []byte{formatVersion + 1}) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(cfg); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("open newer format: %v", err)
	}
}

func TestRunsSplitAndLocate(t *testing.T) {
	k := newKey(t, 13)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	ingest(t, s, inputs(1000, "r")) // one record, four runs
	ingest(t, s, inputs(3, "r"))
	for seq := uint64(1); seq <= 1003; seq++ {
		e, err := s.Get(crdt.Dot{Origin: k.origin, Seq: seq})
		if err != nil || e.Seq != seq {
			t.Fatalf("get %d: %v", seq, err)
		}
	}
	for _, after := range []uint64{0, 1, 255, 256, 257, 999, 1000, 1002, 1003} {
		var got []uint64
		s.Scan(Query{Device: k.origin, After: after, Limit: 3}, func(e *event.Event) error { got = append(got, e.Seq); return nil })
		want := []uint64{}
		for seq := after + 1; seq <= 1003 && len(want) < 3; seq++ {
			want = append(want, seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("after %d: got %v want %v", after, got, want)
		}
	}
}
