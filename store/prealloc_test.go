package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/event"
)

// logicalEnd returns the end of the last good record of segment id.
func logicalEnd(t *testing.T, dir string, id uint32) (int64, bool) {
	t.Helper()
	end, torn, err := (&segments{dir: dir}).scan(id, 0, func(int64, []byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return end, torn
}

func TestSegmentsAreZeroFilledAhead(t *testing.T) {
	k := newKey(t, 20)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(50, "x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.Dir, "log")
	st, err := os.Stat(segmentPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	end, torn := logicalEnd(t, dir, 1)
	if torn || st.Size() < end+zeroStep/2 {
		t.Fatalf("segment of %d bytes, records end at %d (torn %v): not zero-filled ahead", st.Size(), end, torn)
	}
}

// A crash in the middle of writing a record leaves part of it in the
// zero-filled region: replay must take it for a torn record, clear it, and
// put the next record where it was.
func TestTornRecordInZeroedTail(t *testing.T) {
	k := newKey(t, 21)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	ingest(t, s, inputs(7, "x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.Dir, "log")
	end, _ := logicalEnd(t, dir, 1)
	f, err := os.OpenFile(segmentPath(dir, 1), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A header promising 1000 bytes, then only a few of them.
	if _, err := f.WriteAt([]byte{0, 0, 3, 232, 1, 2, 3, 4, 9, 9, 9}, end); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, torn := logicalEnd(t, dir, 1); !torn {
		t.Fatal("garbage in the zeroed tail not seen as torn")
	}
	s = openStore(t, cfg)
	if acks := ingest(t, s, inputs(1, "x")); acks[0].Seq != 8 {
		t.Fatalf("seq after torn record = %d", acks[0].Seq)
	}
	checkLog(t, s, 8)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, torn := logicalEnd(t, dir, 1); torn {
		t.Fatal("torn bytes still there after the next record")
	}
	s = openStore(t, cfg)
	defer s.Close()
	checkLog(t, s, 8)
}

// Rotated segments end in zeros: replay must go on to the next segment
// rather than stop there.
func TestZeroTailsAcrossSegments(t *testing.T) {
	k := newKey(t, 22)
	cfg := testConfig(t.TempDir(), k)
	cfg.SegmentBytes = 1 << 20
	s := openStore(t, cfg)
	pad := `"` + strings.Repeat("p", 2000) + `"`
	big := make([]event.Input, 200)
	for i := range big {
		big[i] = event.Input{Type: "big", Schema: 1, Payload: []byte(`{"pad":` + pad + `}`)}
	}
	for range 8 { // about 3.2 MiB: four segments
		ingest(t, s, big)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.Dir, "log")
	ids, err := (&segments{dir: dir}).list()
	if err != nil || len(ids) < 3 {
		t.Fatalf("segments %v, %v", ids, err)
	}
	s = openStore(t, cfg)
	checkLog(t, s, 1600)
	ingest(t, s, big)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	checkLog(t, s, 1800)
}

func TestAllZero(t *testing.T) {
	for _, tt := range []struct {
		b    []byte
		want bool
	}{
		{nil, true}, {make([]byte, 17), true}, {[]byte{0, 0, 0, 0, 0, 0, 0, 0, 1}, false},
		{[]byte{0, 0, 0, 1, 0, 0, 0, 0}, false}, {[]byte{0, 2}, false},
	} {
		if got := allZero(tt.b); got != tt.want {
			t.Errorf("allZero(%v) = %v", tt.b, got)
		}
	}
}

// TestStepFor: the zero step follows the records being written.
func TestStepFor(t *testing.T) {
	cases := []struct {
		record int64
		lone   bool
		want   int64
	}{
		{20 << 10, true, smallZeroStep},   // one commit at a time: rare, large steps
		{20 << 10, false, zeroStep},       // many writers: small steps
		{100 << 10, true, zeroStep},       // medium records
		{bulkRecord - 1, false, zeroStep}, // just below bulk
		{bulkRecord, true, 0},             // bulk: no zeros
		{4 << 20, false, 0},
	}
	for _, c := range cases {
		if got := stepFor(c.record, c.lone); got != c.want {
			t.Errorf("stepFor(%d, %v) = %d, want %d", c.record, c.lone, got, c.want)
		}
	}
}

// TestBulkRecordsGrowTheFile: records of bulkRecord bytes and more are not
// followed by zeros (a catch-up would write every byte twice).
func TestBulkRecordsGrowTheFile(t *testing.T) {
	k := newKey(t, 21)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	for range 6 {
		ingest(t, s, inputs(4096, "x")) // one record of about 450 KiB each
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.Dir, "log")
	st, err := os.Stat(segmentPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	end, torn := logicalEnd(t, dir, 1)
	if torn || end < 2*zeroStep || st.Size() != end {
		t.Fatalf("segment of %d bytes, records end at %d (torn %v): want no zeros past bulk records", st.Size(), end, torn)
	}
}
