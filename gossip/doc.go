// Package gossip replicates a node's events across its mesh: it binds the
// pure anti-entropy protocol (package syncproto) to libp2p streams, pushes
// new local events on a gossipsub topic, exchanges blobs by CID, and
// tracks what the mesh knows so the node can report completeness and lag.
//
// A Replicator runs three kinds of work:
//
//   - Anti-entropy: every interval (jittered) it runs a round: sessions
//     with fan-out random connected members, and at once a session with
//     every peer that connects.
//     A failed session backs that peer off exponentially, with jitter; a
//     peer that breaks the protocol MaxStrikes times is banned for a while.
//   - Push: after every durable local commit it announces the new head of
//     the local log (origin, seq, seal) on the mesh topic, with the events
//     inline when they are small. Receivers verify and apply inline events
//     and otherwise pull from the announcer. Gossipsub is only a hint: a
//     lost announcement is repaired by anti-entropy.
//   - Blobs: a request/response protocol serves verified blocks by CID, and
//     Fetch assembles a blob from whichever connected peers hold it.
//
// The sync switches (package policy: push on or off, interval, fan-out,
// blob policy, batch sizes, bandwidth budget per peer) are read from
// Config.Policy on every round, session, announcement, blob fetch and
// stream write, so an operator's change applies without a restart. The
// budget is a token bucket per peer (package budget) on the writes of the
// sync and blob streams.
//
// Versions: the sync protocol has one libp2p protocol ID per version
// (/rumor/<mesh>/sync/1, sync/2). A node offers every version it speaks,
// newest first, so each session runs in the highest version both peers
// speak; Config.MaxProtocol pins a node to an older one (a mesh mid
// upgrade). Version 2 carries redacted events; a version 2 node serving a
// version 1 peer withholds what version 1 cannot carry (see syncproto).
// Announcements are the same in every version and never inline redacted
// events.
//
// Redactions: redaction events are ordinary events and travel like them;
// one that does not take effect here (forged, or by a device that is
// neither the origin nor an operator of this node) is still stored, as the
// authentic event of its origin it is, and counted against the peer that
// delivered it (Observer.Rejected reasons redaction_invalid and
// redaction_unauthorized), as is a redacted event a peer sends whose
// redaction this node does not allow.
//
// Retention support: sinks publish their archived watermarks on the mesh's
// watermark topic (watermark.go, watermarks.go; accepted only from members
// advertising the sink role), the replicator remembers what each member
// holds for the stable watermark (stable.go), and a node serves snapshots
// that let an empty node join without pulling the whole history
// (snapshot*.go, Join).
//
// Everything a peer sends is validated (sizes, encodings, signatures, hash
// chains) before it touches the store; the store applies verified events
// idempotently, so duplicated or reordered deliveries change nothing.
package gossip
