package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/rumor-sync/rumor/"

// allowed lists, for each package directory, the packages of ours it may
// import (by path below the module). Directories not listed may import
// anything of ours except what forbiddenEverywhere names.
var allowed = map[string][]string{
	"crdt":              {},
	"cas":               {},
	"internal/clock":    {},
	"event":             {"internal/jsonscan"},
	"internal/jsonscan": {},
	"internal/duckdb":   {},
	"store":             {"crdt", "event", "internal/clock", "internal/jsonscan"},
	"gossip/syncproto":  {"crdt", "event"},
	"gossip/mesh":       {"internal/clock"},
	"gossip/policy":     {"gossip/syncproto", "internal/clock"},
	"gossip/budget":     {"internal/clock"},
	"gossip":            {"crdt", "event", "cas", "gossip/mesh", "gossip/syncproto", "gossip/policy", "gossip/budget", "internal/clock"},
	"api":               {"crdt", "event", "cas", "store"},
	"api/dashboard":     {},
	"node/series":       {"internal/clock"},
	"schema":            {"event", "internal/jsonscan"},
	"retention":         {},
	"sink":              {"crdt", "event", "store", "internal/clock"},
}

func TestDependencyDirection(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for dir, ok := range allowed {
		imports := ourImports(t, filepath.Join(root, dir))
		for imp := range imports {
			if !contains(ok, imp) {
				t.Errorf("%s imports %s, which it must not (allowed: %v)", dir, imp, ok)
			}
		}
	}
}

// ourImports returns the packages of ours imported by non-test files in dir.
func ourImports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[rest] = true
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
