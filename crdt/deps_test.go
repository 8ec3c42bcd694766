package crdt

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps crdt pure: its non-test files import only the standard
// library, and nothing that does I/O, spawns work or reads the clock.
func TestImports(t *testing.T) {
	forbidden := []string{"os", "io", "net", "sync", "time", "math/rand", "math/rand/v2", "unsafe", "log", "log/slog"}
	allowedTime := map[string]bool{"window.go": true} // time.Duration as a unit only
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
			if strings.Contains(strings.Split(path, "/")[0], ".") {
				t.Errorf("%s imports non-standard package %s", name, path)
			}
			for _, bad := range forbidden {
				if path == bad && !(path == "time" && allowedTime[name]) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}
