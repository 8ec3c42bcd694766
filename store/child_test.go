package store

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startChild runs this test binary's test named test as a child process
// with env added, and returns it with a scanner over its standard output.
// The child is killed when the test ends, unless already gone.
func startChild(t *testing.T, test string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // already dead unless the test failed
	return cmd, bufio.NewScanner(out)
}

// killSeed returns the random source of a kill test: seeded from
// RUMOR_TEST_SEED when set (to replay a failure), else from the clock, and
// logged either way.
func killSeed(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("RUMOR_TEST_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (RUMOR_TEST_SEED to replay)", seed)
	return rand.New(rand.NewPCG(seed, seed))
}
