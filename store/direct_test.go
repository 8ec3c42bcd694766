package store

import (
	"bytes"
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

// TestDirectRecords: bulk records, written with their whole pages past the
// page cache, read back byte for byte, in runs and one event at a time,
// before and after a restart, with small records written buffered before,
// between and after them.
func TestDirectRecords(t *testing.T) {
	k := newKey(t, 40)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(3, "small"))
	ingest(t, s, bulkInputs(2000)) // ~600 KB: one bulk record
	ingest(t, s, inputs(5, "small"))
	ingest(t, s, bulkInputs(3000))
	ingest(t, s, inputs(2, "small"))
	const total = 3 + 2000 + 5 + 3000 + 2
	check := func(s *Store) {
		t.Helper()
		var got [][]byte
		for from := uint64(1); from <= total; {
			encs, _, err := s.ReadRunEncoded(k.origin, from, total, 1<<20)
			if err != nil || len(encs) == 0 {
				t.Fatalf("ReadRunEncoded from %d: %d events, %v", from, len(encs), err)
			}
			for _, e := range encs {
				got = append(got, e.Bytes)
			}
			from += uint64(len(encs))
		}
		for seq := uint64(1); seq <= total; seq++ {
			e, err := s.Get(crdt.Dot{Origin: k.origin, Seq: seq})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[seq-1], e.AppendBinary(nil)) {
				t.Fatalf("event %d read in a run differs from the event read alone", seq)
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
	s.Close()
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
