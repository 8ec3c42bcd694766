// Package retention decides what a device may delete of its raw events:
// a pure function of what the sinks have archived, what every live member
// holds, how old the events are and how full the disk is. It does no I/O
// and reads no clock; the node gathers the inputs, asks Decide for a plan
// and carries it out with store.Prune.
//
// The rules (ARCHITECTURE.md §3, bounded growth):
//
//   - An event may go only once it is safe elsewhere: at or below the
//     archived watermark of its origin (the highest seq some sink archived
//     durably, contiguous from 1; any one sink is enough), or, when the
//     operator opts in with --prune-when-all-have, at or below the stable
//     watermark (the highest seq every known live member holds). Nothing
//     above that line is ever planned, whatever the disk says.
//   - Within that line, events older than the retention window (--retain)
//     go: Origin.Aged is the highest seq whose events are all older.
//   - When the data directory is over its budget (--max-disk), more must
//     go: the node tries ever shorter windows (Windows), and Decide takes
//     the events still needed from those older than the window tried
//     (Origin.Pressure), oldest first within each origin and in
//     proportion to what each origin offers, so that the oldest events go
//     first across origins and no more than needed. If even everything
//     archived is not enough, the plan says so (Plan.Blocked) and by how
//     much: the node logs it and exports it as a metric, and deletes
//     nothing more.
//
// Pruned events stay in the causal context (they are never pulled back)
// and in the aggregates (folded in when they arrived).
package retention
