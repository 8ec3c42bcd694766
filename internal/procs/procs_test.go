package procs

import (
	"os"
	"runtime"
	"testing"
)

func TestTune(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	before := runtime.GOMAXPROCS(0)
	if Default() != before {
		t.Fatalf("Default: %d, the runtime chose %d", Default(), before)
	}
	if got := Tune(); got != before+1 || runtime.GOMAXPROCS(0) != before+1 {
		t.Fatalf("Tune: %d processors (runtime %d), want %d", got, runtime.GOMAXPROCS(0), before+1)
	}
	if got := Tune(); got != before+1 {
		t.Fatalf("Tune again: %d processors, want %d", got, before+1)
	}
}

func TestTuneKeepsEnvironment(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "2")
	runtime.GOMAXPROCS(2)
	if got := Tune(); got != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Fatalf("Tune with GOMAXPROCS=2 set: %d (runtime %d)", got, runtime.GOMAXPROCS(0))
	}
}
