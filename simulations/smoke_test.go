package simulations

import (
	"os"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	name := os.Getenv("SC")
	if name == "" {
		name = "steady-state"
	}
	sc, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Run(sc, Options{Nodes: atoi(os.Getenv("N")), NoFastPath: os.Getenv("NOFAST") != "", Replica: os.Getenv("REPLICA")})
	t.Logf("wall %v", time.Since(start))
	if res != nil {
		t.Log("\n" + res.Report.Summary())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
