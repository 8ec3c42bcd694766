package node

import (
	"os"
	"testing"

	"github.com/rumor-sync/rumor/internal/procs"
)

// TestMain runs the package's tests and benchmarks with the scheduler
// setting `rumor node` starts with (internal/procs), so that the
// benchmarks measure what the binary does.
func TestMain(m *testing.M) {
	procs.Tune()
	os.Exit(m.Run())
}
