// Package procs sets how many goroutines a rumor process runs at once.
//
// Go runs goroutines on GOMAXPROCS logical processors, by default one per
// CPU the process may use. A goroutine in a system call keeps its
// processor until the runtime's monitor takes it back, which it does not
// while another processor is idle, and it checks less and less often
// (down to every 10 ms) while it finds nothing to take. A node's long
// system calls are disk waits: the fdatasync that makes a group of events
// durable and the direct write of a catch-up's records, 7-10 ms each on
// this project's virtual disk. During one of them the other goroutines (network, event
// decoding, indexing) share the remaining processors even though a CPU is
// idle. On a two-CPU machine, a trace of a 1 M-event catch-up showed one
// goroutine running and others waiting for a processor, with a system
// call in progress, for 0.97 s of its 2.64 s. With one processor more,
// the CPUs' idle and I/O-wait time during the catch-up fell from 1.4-1.6
// to 0.7-1.1 CPU-seconds. In runs alternating with the default, the
// catch-up took 5-14% less time in 10 of 11 pairs in two sittings, and
// the same within 3% either way in two later ones (6 and 8 pairs).
// Two processors more gained nothing and cost 0.3-0.5 CPU-seconds of
// scheduler spinning.
package procs

import (
	"os"
	"runtime"
)

// def is GOMAXPROCS as the runtime chose it, before Tune.
var def = runtime.GOMAXPROCS(0)

// Default returns the number of logical processors the runtime chose
// for the process, before Tune.
func Default() int { return def }

// Tune gives the process one logical processor more than the runtime's
// default, unless the GOMAXPROCS environment variable chose the number,
// and returns the number in effect. Setting it stops the runtime from
// following later changes of the process's CPU limit (a container's
// quota changed while the node runs); a restart picks them up.
func Tune() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := def + 1
	runtime.GOMAXPROCS(n)
	return n
}
