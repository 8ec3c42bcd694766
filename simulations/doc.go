// Package simulations is rumor's deterministic fleet simulator: it runs
// thousands of replicas' real sync code (syncproto.Session over
// syncproto.Replica stores holding events sealed with real Ed25519 keys)
// in one goroutine, in virtual time, over a modelled network, and reports
// whether and how fast the fleet converges and what it cost.
//
// # Usage
//
//	sc, err := simulations.Open("partition-and-heal") // a YAML file, or a library name
//	res, err := simulations.Run(sc, simulations.Options{Seed: 7, Nodes: 1000})
//	// err wraps ErrInvariant (an *InvariantError naming the seed) if an
//	// invariant broke; res.Report is report.json:
//	res.Report.Write("out")            // out/report.json and three SVG plots
//	fmt.Print(res.Report.Summary())
//
// `rumor sim run FILE|NAME [--seed N] [--nodes N] [--out DIR]` does the
// same from the command line; `rumor sim list` lists the library
// (scenarios/*.yaml, embedded in the binary).
//
// # The model
//
// An event queue ordered by (virtual time, insertion order) holds message
// deliveries, session ticks, storage completions, anti-entropy timers,
// workload ingests, churn and outage transitions, partitions and samples.
// One seeded *rand.Rand draws every random choice, so the same scenario
// and seed give a byte-identical report. Nothing sleeps, opens a socket or
// starts a goroutine.
//
// Each node runs gossip's anti-entropy loop: every [Interval/2,
// 3*Interval/2] (stretched by its clock drift) it opens a session with a
// random available peer it can reach and has no session with, at most
// MaxOutbound at once. A session is a pair of syncproto.Sessions; their
// messages cross the two nodes' access links (serialization at each
// end's bandwidth, a latency draw at each end, faults), their Apply
// effects become durable after ApplyLatency, then Session.Applied, and
// they tick every Tick, so lost messages end in timeouts. Links are
// reliable ordered streams by default (loss costs retransmission delay);
// in frame mode, loss, duplication, reordering and corruption reach the
// state machine as they are, as in syncproto.SimNet.
//
// A session between replicas the simulator knows to be equal (by a
// 128-bit multiset hash of their dots) is synthesized: the same two
// 31-byte HELLO frames through the same link model, the same timing and
// outcome, without cloning and hashing both causal contexts. When the
// replicas turn out to differ on arrival, real sessions take over in the
// state the exchange reached. Options.NoFastPath turns this off; the
// tests check that the reports are then byte-identical.
//
// Replicas are, by default, compact: a causal context and the seals held,
// reading event bodies from the fleet-wide ledger of every event ever
// recorded, which is exactly what every replica would hold (events are
// immutable; nothing forks). Options.Replica = ReplicaMem uses
// syncproto.MemReplica instead, with the same results.
//
// # Invariants
//
// Checked as the run goes; a violation ends it with an *InvariantError:
//   - every Apply a session emits carries only events and seals their
//     origins recorded (the sessions verified them; the ledger confirms);
//   - a node's context only grows, unless the node is wiped, and matches
//     its event count (every node of a fleet up to Options.FullChecks
//     nodes at every sample, else 64 nodes in turn);
//   - at the end, every recorded event (but those destroyed with the only
//     nodes holding them, reported as wiped_events) is on every available
//     node: lost_events must be 0; fleets up to 64 nodes also verify
//     every replica's chains and seals.
//
// After Duration the workload stops, no new fault starts and every fault
// is repaired (the network heals, offline devices come online, crashed
// ones restart); the run goes on until every available node holds every
// event, or Settle passes.
//
// # Scenario files
//
// YAML, unknown fields rejected. Durations are Go durations or days
// ("500ms", "2h", "1d"), sizes "512B", "4KiB", "1MB", bandwidths
// "256kbps", "10Mbps", rates "30/h", "0.5/s". A distribution (Dist) is a
// constant or {dist: uniform|normal|lognormal|exponential, …}. See
// Scenario and the types it refers to for every field and its default,
// README.md for a walk-through, and scenarios/ for examples.
//
// The real-stack harness, package realstack, runs full nodes on loopback
// through the same scenarios to check the wiring the simulator abstracts.
package simulations
