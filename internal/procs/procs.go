// Package procs sets how many goroutines a rumor process runs at once.
//
// Go runs goroutines on GOMAXPROCS logical processors, by default one per
// CPU the process may use. A goroutine in a system call keeps its
// processor until the runtime's monitor takes it back, which it does not
// while another processor is idle, and it checks less and less often
// (down to every 10 ms) while it finds nothing to take. A node's long
// system calls are disk waits: the fdatasync that makes a group of events
// durable and the direct write of a catch-up's records, 5-10 ms each on a
// virtual disk. During one of them the other goroutines (network, event
// decoding, indexing) share the remaining processors even though a CPU is
// idle. On a two-CPU machine, a trace of a 1 M-event catch-up showed one
// goroutine running and others waiting for a processor, with a system
// call in progress, for about 1 s of its 2.6 s; with one processor more
// the CPUs' idle and I/O-wait time fell from about 1.5 to 0.7 CPU-seconds
// and the catch-up took about 10% less time (README, catch-up benchmark).
// Two more gained nothing and cost CPU time in the scheduler.
package procs

import (
	"os"
	"runtime"
)

// Tune gives the process one logical processor more than the runtime's
// default, unless the GOMAXPROCS environment variable chose the number,
// and returns the number in effect. Setting it stops the runtime from
// following later changes of the process's CPU limit (a container's
// quota changed while the node runs); a restart picks them up.
func Tune() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := runtime.GOMAXPROCS(0) + 1
	runtime.GOMAXPROCS(n)
	return n
}
