// Package crdt holds rumor's pure lattice types: the causal context of a
// replica (a compact version vector), the dot store of events (an add-wins
// OR-Set keyed by dot), state-based counters and the mergeable analytics
// aggregates derived from events.
//
// Everything here is pure: no I/O, no goroutines, no clocks, no globals, no
// randomness. Callers pass timestamps in; encodings are returned as bytes.
// None of the types is safe for concurrent use; the owner serialises access.
//
// # Dots and the causal context
//
// Every event is named by its [Dot]: the origin device and the origin's
// sequence number, counted from 1. A [Context] is the set of dots a replica
// knows, kept compact: per origin the contiguous maximum from 1 plus the few
// ranges beyond a gap. Contexts form a join-semilattice under [Context.Merge]
// (set union): merge is commutative, associative and idempotent. Anti-entropy
// compares [Context.Digest]s, and when they differ ships the other side's
// context so that [Context.Missing] names exactly the ranges to send.
//
// A typical sync round:
//
//	if a.Digest() != remoteDigest {
//		need := a.Missing(remoteCtx)       // ranges a holds that the peer lacks
//		delta := store.Extract(need)        // those events, as a delta state
//		send(delta)                         // the peer calls Merge(delta)
//	}
//
// # The dot store
//
// [ORSet] maps dots to values and carries its own context. Adding an event
// puts its dot in both; removing it (redaction, retention) drops the value and
// keeps the dot in the context as a tombstone, so a peer that still holds the
// event can never resurrect it. [ORSet.Add] and [ORSet.Remove] return deltas
// (delta-state CRDTs, Almeida, Shoker and Baquero): joining any interleaving of
// deltas, with duplicates and in any order, gives the same state as joining
// the full states. A dot names one immutable event, so two states holding the
// same dot hold the same value.
//
// # Counters
//
// [GCounter] and [PNCounter] are the classic state-based counters keyed by
// replica id, with delta mutators. They are lattices too.
//
// # Analytics aggregates: what is and is not a lattice
//
// [Agg] is a partial aggregate over a set of events: count, value count, sum,
// min, max, a DDSketch-style quantile sketch (1% relative accuracy) and a
// HyperLogLog distinct count. Be clear about its laws:
//
//   - Min, max and the HyperLogLog registers are idempotent joins.
//   - Count, sum and the sketch's bucket counts are additions. [Agg.Merge] is
//     commutative and associative and [NewAgg] is its identity, but it is NOT
//     idempotent: merging the same partial twice counts its events twice.
//     Merge is only correct for partials over disjoint sets of events.
//
// Exactly-once therefore does not come from Agg; it comes from [Aggregates],
// which remembers every applied dot in a [Context] and ignores a dot it has
// seen, so a duplicated or reordered event stream yields the same numbers.
//
// The sum is kept exactly (as an integer multiple of 2^-1074, the smallest
// float64 step), so it does not depend on the order of additions: every
// replica that applied the same events reports bit-identical aggregates. The
// sketch's bucket mapping and the hash use only exactly rounded IEEE
// operations, so the state is also identical across CPU architectures.
package crdt
