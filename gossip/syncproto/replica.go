package syncproto

import (
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Replica is the read side of the store a session syncs, owned by this
// package as its consumer. A session only reads through it; what it learns
// from the peer comes back to the driver as Apply effects.
//
// Invariant the session relies on: every contiguous block of an origin's
// held events ends with a held seal (a store keeps only sealed runs: the
// origin seals each durable batch, and a session applies only verified
// sealed runs together with their seal).
//
// Calls come from the goroutine driving the session; an implementation
// shared by concurrent sessions must be safe for concurrent use.
type Replica interface {
	// Context returns a snapshot of the dots the replica holds. The caller
	// may keep and modify it.
	Context() *crdt.Context
	// Hash returns the hash of the held event at d, and whether it is held.
	Hash(d crdt.Dot) (event.Hash, bool)
	// ReadRun returns held events of origin from seq from on, contiguous,
	// stopping after the first event at or after seq to that carries a held
	// seal, and that seal. It stops early, with a nil seal, at the first seq
	// not held, or before an event that would take the events' canonical
	// encodings beyond maxBytes; it returns at least one event when from is
	// held, however large. The caller continues from the next seq and must
	// never send a run that no seal covers. A non-nil error is a storage
	// failure.
	ReadRun(origin string, from, to uint64, maxBytes int) ([]*event.Event, *event.Seal, error)
}

// Apply is an effect: verified events the replica does not hold, for the
// driver to persist durably (events, context and seals in one transaction)
// before it calls Session.Applied.
type Apply struct {
	// Events are verified events of one origin, ascending by seq, none of
	// them held when the session checked. Applying must skip any that became
	// held since (from another session), so applying is idempotent.
	Events []*event.Event
	// Hashes[i] is Events[i].Hash(), computed during verification.
	Hashes []event.Hash
	// Encoded[i], when not nil, is Events[i]'s canonical encoding as it
	// arrived (Events[i].AppendBinary gives the same bytes): a replica
	// may store it as it is. Encoded may be shorter than Events.
	Encoded [][]byte
	// Seals are the seals that vouch for Events; store them so that the
	// block the events join ends with a seal.
	Seals []*event.Seal
}
