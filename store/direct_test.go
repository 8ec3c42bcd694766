package store

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// bulkInputs returns n events of about 300 bytes: a batch of them makes a
// record large enough to be written, and read back, past the page cache.
func bulkInputs(n int) []event.Input {
	in := make([]event.Input, n)
	for i := range in {
		in[i] = event.Input{Type: "bulk", Schema: 1,
			Payload: json.RawMessage(`{"value":` + strings.Repeat("1", 1+i%7) + `,"pad":"` + strings.Repeat("x", 200+i%13) + `"}`)}
	}
	return in
}

// TestDirectRecords: bulk records of remote events, written with their
// whole pages past the page cache, read back byte for byte, in runs and
// one event at a time, before and after a restart, with small records
// written buffered before, between and after them; bulk records of local
// events stay buffered.
func TestDirectRecords(t *testing.T) {
	src := openStore(t, testConfig(t.TempDir(), newKey(t, 41)))
	defer src.Close()
	ingest(t, src, inputs(3, "small"))
	ingest(t, src, bulkInputs(2000)) // ~600 KB: one bulk record
	ingest(t, src, inputs(5, "small"))
	ingest(t, src, bulkInputs(3000))
	ingest(t, src, inputs(2, "small"))
	const total = 3 + 2000 + 5 + 3000 + 2
	if src.segs.direct.pages != 0 {
		t.Fatalf("local records: %d bytes written directly", src.segs.direct.pages)
	}
	origin := src.Origin()
	cfg := testConfig(t.TempDir(), newKey(t, 40))
	s := openStore(t, cfg)
	for from := uint64(1); from <= total; { // one sealed run (one ingest) per apply
		evs, seal, err := src.ReadRun(origin, from, from, 8<<20)
		if err != nil || seal == nil {
			t.Fatalf("read from %d: %v, seal %v", from, err, seal)
		}
		encs, _, err := src.ReadRunEncoded(origin, from, from, 8<<20)
		if err != nil || len(encs) != len(evs) {
			t.Fatalf("read encoded from %d: %d events, %v", from, len(encs), err)
		}
		raw := make([][]byte, len(encs))
		for i := range encs {
			raw[i] = encs[i].Bytes
		}
		wait, err := s.ApplyAsync(context.Background(), evs, raw, []event.Seal{*seal})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wait(); err != nil {
			t.Fatal(err)
		}
		from = seal.Seq + 1
	}
	check := func(s *Store) {
		t.Helper()
		var got [][]byte
		for from := uint64(1); from <= total; {
			encs, _, err := s.ReadRunEncoded(origin, from, total, 1<<20)
			if err != nil || len(encs) == 0 {
				t.Fatalf("ReadRunEncoded from %d: %d events, %v", from, len(encs), err)
			}
			for _, e := range encs {
				got = append(got, e.Bytes)
			}
			from += uint64(len(encs))
		}
		for seq := uint64(1); seq <= total; seq++ {
			e, err := s.Get(crdt.Dot{Origin: origin, Seq: seq})
			if err != nil {
				t.Fatal(err)
			}
			want, err := src.Get(crdt.Dot{Origin: origin, Seq: seq})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[seq-1], e.AppendBinary(nil)) || !bytes.Equal(got[seq-1], want.AppendBinary(nil)) {
				t.Fatalf("event %d: run, alone and source differ", seq)
			}
		}
	}
	check(s)
	if s.segs.direct.off {
		t.Skip("the file system refuses O_DIRECT: only the buffered path ran")
	}
	if s.segs.direct.pages < 2*directMin {
		t.Fatalf("only %d bytes written directly", s.segs.direct.pages)
	}
	if s.segs.direct.copied != 0 { // records are built at their page phase
		t.Fatalf("%d of %d bytes written directly were copied first", s.segs.direct.copied, s.segs.direct.pages)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	check(s)
}

// TestDirectSpan: only whole pages, and enough of them, go direct.
func TestDirectSpan(t *testing.T) {
	for _, c := range []struct {
		off, end, a, e int64
	}{
		{0, directMin, 0, directMin},
		{1, directMin + directPage, directPage, directMin + directPage},
		{1, directMin + 1, 0, 0}, // one page short
		{100, 100 + 10*directMin + 5, directPage, (100 + 10*directMin + 5) &^ (directPage - 1)},
	} {
		a, e := directSpan(c.off, c.end)
		if a != c.a || e != c.e {
			t.Errorf("directSpan(%d, %d) = %d, %d; want %d, %d", c.off, c.end, a, e, c.a, c.e)
		}
	}
}
