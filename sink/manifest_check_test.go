package sink

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// manifestRow is one manifest row as DuckDB reads it.
type manifestRow struct {
	DeviceID    string  `json:"device_id"`
	Seq         uint64  `json:"seq,string"`
	EventID     string  `json:"event_id"`
	Type        string  `json:"type"`
	TS          int64   `json:"ts,string"`
	RedactedBy  string  `json:"redacted_by"`
	RedactedAt  int64   `json:"redacted_at,string"`
	ArchiveFile *string `json:"archive_file"`
	Manifest    string  `json:"manifest"`
	Row         int64   `json:"row,string"`
	Log         string  `json:"log"`

	first uint64 // of the manifest file
}

var wantManifestTypes = map[string]string{
	"device_id": "VARCHAR", "seq": "BIGINT", "event_id": "VARCHAR", "type": "VARCHAR",
	"ts": "TIMESTAMP WITH TIME ZONE", "redacted_by": "VARCHAR", "redacted_at": "TIMESTAMP WITH TIME ZONE",
	"file": "VARCHAR", "filename": "VARCHAR", "file_row_number": "BIGINT", "log": "VARCHAR",
}

// duckManifest reads the manifest under root with DuckDB, in the order
// of the redaction numbers (file ranges, then rows).
func duckManifest(t testing.TB, root string) []manifestRow {
	t.Helper()
	dir := duckDBDir(t)
	cmd := exec.Command("node", "testdata/read_manifest.cjs", filepath.Join(dir, "package.json"), root)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb read of %s: %v", root, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<24)
	var rows []manifestRow
	for first := true; sc.Scan(); first = false {
		if first {
			types := map[string]string{}
			if err := json.Unmarshal(sc.Bytes(), &types); err != nil {
				t.Fatalf("duckdb schema line %q: %v", sc.Text(), err)
			}
			for col, want := range wantManifestTypes {
				if len(types) > 0 && types[col] != want {
					t.Errorf("manifest column %s has DuckDB type %q, want %q", col, types[col], want)
				}
			}
			continue
		}
		var r manifestRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("duckdb row %q: %v", sc.Text(), err)
		}
		rel, err := filepath.Rel(root, r.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseManifestName(filepath.ToSlash(rel))
		if err != nil || m.Log != r.Log {
			t.Fatalf("manifest row in %s (log %s): %v", rel, r.Log, err)
		}
		r.first = m.First
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y manifestRow) int {
		if x.first != y.first {
			return int(int64(x.first) - int64(y.first))
		}
		return int(x.Row - y.Row)
	})
	return rows
}

// checkManifest reads the manifest under root with DuckDB and checks it
// against the redactions that took effect in st: every one exactly once,
// in order, with its fields; the files' ranges are contiguous from 1 and
// never overlap, all in one log. It returns the rows by target.
func checkManifest(t testing.TB, root string, st *store.Store) map[string]manifestRow {
	t.Helper()
	rows := duckManifest(t, root)
	var want []*event.Redaction
	var nums []uint64
	if err := st.Redactions(0, func(n uint64, r *event.Redaction) error {
		want, nums = append(want, r), append(nums, n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("manifest holds %d rows, the store %d redactions", len(rows), len(want))
	}
	out := map[string]manifestRow{}
	files := map[string]Manifest{}
	for i, r := range rows {
		x := want[i]
		if r.DeviceID != x.Device || r.Seq != x.Seq || r.EventID != x.ID.String() || r.Type != x.Type ||
			r.TS != x.TS || r.RedactedBy != x.Redactor || r.RedactedAt != x.At || r.Log != rows[0].Log {
			t.Fatalf("manifest row %d = %+v; redaction %d = %+v", i, r, nums[i], x)
		}
		rel, _ := filepath.Rel(root, r.Manifest)
		m, _ := ParseManifestName(filepath.ToSlash(rel))
		if nums[i] < m.First || nums[i] > m.Last {
			t.Fatalf("redaction %d is in %s", nums[i], rel)
		}
		files[m.Name] = m
		key := x.Device + "/" + x.ID.String()
		if _, dup := out[key]; dup {
			t.Fatalf("redaction of %s recorded twice", key)
		}
		out[key] = r
	}
	var ms []Manifest
	for _, m := range files {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y Manifest) int { return int(int64(x.First) - int64(y.First)) })
	next := uint64(1)
	for _, m := range ms {
		if m.First != next {
			t.Fatalf("manifest files %+v: %s does not start at %d", ms, m.Name, next)
		}
		next = m.Last + 1
	}
	if len(nums) > 0 && next != nums[len(nums)-1]+1 {
		t.Fatalf("manifest files end at %d, redactions at %d", next-1, nums[len(nums)-1])
	}
	return out
}
