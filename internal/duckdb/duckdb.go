package duckdb

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed query.cjs
var script []byte

// Dir returns the directory holding node_modules/@duckdb/node-api, or skips
// (fails, with RUMOR_REQUIRE_DUCKDB=1) the test when the client or node is
// missing.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("RUMOR_DUCKDB_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "rumor-test", "duckdb")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		missing(t, fmt.Sprintf("DuckDB's Node.js client is not in %s (npm install --prefix %s @duckdb/node-api@1.5.6-r.1, or set RUMOR_DUCKDB_DIR)", dir, dir))
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not on PATH")
	}
	return dir
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("RUMOR_REQUIRE_DUCKDB") == "1" {
		t.Fatalf("%s (required: RUMOR_REQUIRE_DUCKDB=1)", msg)
	}
	t.Skipf("skipped: %s (set RUMOR_REQUIRE_DUCKDB=1 to make this a failure)", msg)
}

// Query runs sql with DuckDB and decodes each row into a new T (a struct
// with json tags; DuckDB's BIGINTs arrive as strings, so tag such fields
// `json:",string"`).
func Query[T any](t testing.TB, sql string) []T {
	t.Helper()
	dir := Dir(t)
	path := filepath.Join(t.TempDir(), "query.cjs")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", path, filepath.Join(dir, "package.json"), sql)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s\nquery: %s", err, stderr.String(), sql)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<24)
	var rows []T
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("duckdb row %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// Events is the DuckDB table expression of every event file of the
// archive in the directory root, Hive partitions (date, device) as
// columns, and each row's file name in the column file.
func Events(root string) string {
	glob := strings.ReplaceAll(filepath.ToSlash(root)+"/events/**/*.parquet", "'", "''")
	return fmt.Sprintf("read_parquet('%s', hive_partitioning = true, filename = true)", glob)
}

// Origin is one device's rows in an archive, as Archived counts them.
type Origin struct {
	Device string `json:"device_id"`
	Rows   uint64 `json:"rows,string"`
	Dots   uint64 `json:"dots,string"` // distinct (device_id, seq)
	Min    uint64 `json:"min_seq,string"`
	Max    uint64 `json:"max_seq,string"`
	Files  uint64 `json:"files,string"`
}

// Contiguous reports whether the device's rows are seqs 1 to Max, each
// exactly once.
func (o Origin) Contiguous() bool { return o.Rows == o.Dots && o.Min == 1 && o.Max == o.Rows }

// Archived counts, per device, the rows of the archive in the directory
// root: rows, distinct seqs, the lowest and highest seq, and files.
func Archived(t testing.TB, root string) map[string]Origin {
	t.Helper()
	if !hasParquet(t, root) {
		return map[string]Origin{} // DuckDB refuses a glob that matches nothing
	}
	rows := Query[Origin](t, `SELECT device_id, count(*) AS rows, count(DISTINCT seq) AS dots,
		min(seq) AS min_seq, max(seq) AS max_seq, count(DISTINCT filename) AS files
		FROM `+Events(root)+` GROUP BY device_id`)
	out := make(map[string]Origin, len(rows))
	for _, r := range rows {
		out[r.Device] = r
	}
	return out
}

// hasParquet reports whether some file under root/events ends in .parquet.
func hasParquet(t testing.TB, root string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(filepath.Join(root, "events"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
