package syncproto

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the core pure: non-test files import the standard
// library minus anything that does I/O on its own, spawns work or reads the
// clock, plus crdt and event. Only the codec sees io.Reader/io.Writer, and
// only the simulated network holds a (caller-seeded) random source.
func TestImports(t *testing.T) {
	forbidden := map[string]bool{"os": true, "net": true, "sync": true, "sync/atomic": true, "time": true,
		"math/rand": true, "unsafe": true, "log": true, "log/slog": true, "runtime": true}
	onlyIn := map[string]string{"io": "codec.go", "math/rand/v2": "simnet.go"}
	ours := map[string]bool{"github.com/rumor-sync/rumor/crdt": true, "github.com/rumor-sync/rumor/event": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case forbidden[path]:
				t.Errorf("%s imports %s", name, path)
			case onlyIn[path] != "" && onlyIn[path] != name:
				t.Errorf("%s imports %s (only %s may)", name, path, onlyIn[path])
			case strings.Contains(strings.Split(path, "/")[0], ".") && !ours[path]:
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
