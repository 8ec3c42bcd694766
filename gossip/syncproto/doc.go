// Package syncproto is rumor's anti-entropy protocol: a pure session state
// machine that brings two replicas to the union of their events, and the
// wire codec of its frames. It does no I/O: a driver (the libp2p binding,
// the fleet simulator, SimNet in tests) feeds it the peer's messages, ticks
// and apply confirmations, and gets back, as data in a Ready, the messages
// to send and the verified events to persist, like etcd's raft RawNode.
// It imports only the standard library, crdt and event, and never reads a
// clock, spawns a goroutine or draws randomness of its own.
//
// # Frames
//
// Every message travels as one length-prefixed frame:
//
//	frame = version:byte type:byte length:uvarint payload
//
// The version byte is the session's protocol version (see Version1 and
// Version2, and Codec): the transport agrees on it before the first frame
// (libp2p protocol IDs sync/1 and sync/2, the highest both peers speak),
// and each side rejects a frame of another version.
// ReadFrame checks the version, the type and the declared length against
// the type's limit (MaxFrame, 16 MiB, in general; a whole HELLO frame is at
// most 64 bytes) before allocating anything, and every decoder rejects
// truncated, oversized, non-canonical and trailing-byte input with an error
// wrapping ErrMalformed. The messages:
//
//	HELLO    schema, 16-byte digest of the causal context, event count (28 bytes),
//	         and from version 2 the versions the sender speaks (one more byte)
//	SYNC_REQ the sender's causal context (crdt.Context encoding)
//	DELTA    contiguous events of one origin, optionally with the seal over the last;
//	         from version 2 an event may be in redacted form
//	DONE     the sender has sent everything the peer misses
//	ACK      one DELTA handled: events applied, the receiver's new digest
//	ERROR    a code and a short message; the session is over
//
// # A session
//
// The initiator sends HELLO; the responder answers with its own. If the two
// digests are equal, both sides are done: one round trip, 31 bytes each way
// whatever the number of origins. Otherwise each side sends SYNC_REQ with
// its whole context (the responder right after its HELLO), and on the
// peer's SYNC_REQ computes own.Missing(peer) and streams those events:
//
//	initiator                      responder
//	HELLO              ──────────▶
//	                   ◀────────── HELLO, SYNC_REQ      (digests differ)
//	SYNC_REQ, DELTA…   ──────────▶
//	                   ◀────────── ACK…, DELTA…, DONE
//	ACK…, DONE         ──────────▶
//	                   ◀────────── ACK…
//
// Both directions flow in the same session. DELTA frames carry at most
// MaxBatchBytes of events; at most Window of them are unacknowledged, and
// the receiver acknowledges a frame that completes a sealed run only once
// the driver has made the run durable (Session.Applied), which is the
// backpressure. A session completes when it has sent and received DONE, all
// its DELTAs are acknowledged and all its applies are confirmed and
// acknowledged.
//
// # Sealed runs and verification
//
// The sender cuts each origin's missing events into runs that end at a seal
// the sender holds (Replica.ReadRun), after about RunBytes. A run may span
// several DELTA frames; the receiver buffers it (at most MaxPendingBytes)
// until the frame with the seal arrives, then verifies it backwards: the
// seal is the origin's signature over the last event's hash and every
// event's Prev is its predecessor's hash, so the run is authentic even when
// the receiver lacks the event before it. Then the receiver compares the run
// with what it holds: a held event with a different hash, or a run that does
// not follow the held predecessor, is a forked origin (Result.Forks). Events
// already held, or being applied, are skipped, so duplicated and replayed
// deltas change nothing.
//
// # Redacted events
//
// A redacted event (event.Redaction.Stub) keeps the original's hash and
// Prev, so a run holding one verifies against the original seal without
// the payload. Its redaction is checked against the replica's policy
// (Redactions.CheckRedaction): a forged one breaks the protocol
// (CodeBadRedaction); one the policy does not allow (the redactor is not
// an operator here) is refused, with the events of its run before it, and
// counted in Result.Refused, since the peer may simply list other
// operators. Version 1 cannot carry redacted events: a version 1 session
// sends each origin's events up to the last held seal before a redacted
// one, skips the rest through it (Result.Withheld) and goes on after it.
//
// # Pruned replicas
//
// A replica may no longer hold an origin's oldest events although their
// dots stay in its context (retention pruned them, or it joined from a
// snapshot without them): it implements Floored. A session computes what
// the peer misses from the whole context, so pruned events are never
// pulled back, and then clips those ranges at the floors, so it never
// offers what it no longer has: a peer missing events below a floor gets
// them from a replica that kept them. The hash of the event at the floor
// is kept (Replica.Hash), so a run starting just above it is still
// checked against its predecessor.
//
// Anything invalid from the peer (a frame that does not decode, a message
// out of order, a schema above MaxSchema, a wrong origin or a gap in a run,
// a broken chain, a bad seal, a fork, a run beyond the pending limit, an
// unsolicited ACK) ends the session: the Ready carries an ERROR for the
// peer and Result.Err a *ProtocolError wrapping ErrProtocol. Nothing from
// the offending run is ever applied; runs verified earlier in the session
// stay valid.
//
// # Driving a session
//
//	s := syncproto.NewSession(cfg, replica, initiator)
//	rd := s.Start()
//	for !rd.Done {
//		send(rd.Send)                     // WriteFrame each, in order
//		persist(rd.Apply)                 // durably, possibly later; then s.Applied(len)
//		select {
//		case m := <-frames:               // ReadFrame; on ErrMalformed call s.Abort(err)
//			rd, _ = s.Step(m)
//		case <-ticker:
//			rd = s.Tick()
//		}
//	}
//	send(rd.Send)                         // the last ACKs or the ERROR
//	record(rd.Result)
//
// MemReplica is an in-memory Replica and SimNet a deterministic in-memory
// network with loss, duplication, reordering and corruption, for tests and
// simulations.
package syncproto
