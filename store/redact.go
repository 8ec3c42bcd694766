package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Redaction errors.
var (
	// ErrReservedType is returned by Ingest for an input of the reserved
	// type event.RedactionType: only Redact creates redaction events.
	ErrReservedType = fmt.Errorf("%w: type %q is reserved for redactions (DELETE the event instead)", event.ErrInvalid, event.RedactionType)
	// ErrAlreadyRedacted is returned by Redact for an event already
	// redacted; the existing redaction comes with it.
	ErrAlreadyRedacted = errors.New("store: event already redacted")
	// ErrNotRedactable is returned by Redact for a redaction event: a
	// redaction cannot be taken back.
	ErrNotRedactable = errors.New("store: a redaction event cannot be redacted")
)

// redactState is the store's redaction bookkeeping shared by readers.
type redactState struct {
	operators map[string]bool // device ids allowed to redact any event

	mu sync.RWMutex
	m  map[crdt.Dot]*event.Redaction // committed redactions: what readers see
	n  atomic.Int64                  // len(m), so reads skip the lookup while there are none

	redactMu sync.Mutex    // serializes Redact, so that redacting twice is idempotent
	eraseMu  sync.Mutex    // serializes erasure passes (the eraser's and Prune's)
	wake     chan struct{} // wakes the eraser
}

func (r *redactState) get(d crdt.Dot) *event.Redaction {
	if r.n.Load() == 0 {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[d]
}

func (r *redactState) publish(rs []*event.Redaction) {
	if len(rs) == 0 {
		return
	}
	r.mu.Lock()
	for _, x := range rs {
		d := crdt.Dot{Origin: x.Device, Seq: x.Seq}
		if _, ok := r.m[d]; !ok {
			r.m[d] = x
		}
	}
	r.n.Store(int64(len(r.m)))
	r.mu.Unlock()
}

// snapshot returns a copy of the committed redactions.
func (r *redactState) snapshot() map[crdt.Dot]*event.Redaction {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[crdt.Dot]*event.Redaction, len(r.m))
	for d, x := range r.m {
		out[d] = x
	}
	return out
}

func redactionDot(r *event.Redaction) crdt.Dot { return crdt.Dot{Origin: r.Device, Seq: r.Seq} }

// loadRedactions reads every redaction record into memory.
func (s *Store) loadRedactions() error {
	s.red.m = map[crdt.Dot]*event.Redaction{}
	s.red.wake = make(chan struct{}, 1)
	s.red.operators = map[string]bool{}
	for _, op := range s.cfg.Operators {
		s.red.operators[op] = true
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xRecord}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			r := new(event.Redaction)
			if err := it.Item().Value(r.UnmarshalBinary); err != nil {
				return fmt.Errorf("store: redaction record %x: %w", it.Item().Key(), err)
			}
			s.red.m[redactionDot(r)] = r
		}
		return nil
	})
	s.red.n.Store(int64(len(s.red.m)))
	return err
}

// IsOperator reports whether device may redact any event here
// (Config.Operators).
func (s *Store) IsOperator(device string) bool { return s.red.operators[device] }

// CheckRedaction verifies r's signature and its redactor's right under
// this store's policy: a device redacts its own events, an operator any.
// Errors wrap event.ErrInvalid (forged or malformed) or event.ErrNotAllowed.
func (s *Store) CheckRedaction(r *event.Redaction) error { return r.Check(s.IsOperator) }

// checkRedactionEvent returns the redaction a redaction event carries if
// it may take effect here, else nil and why not.
func (s *Store) checkRedactionEvent(e *event.Event) (*event.Redaction, error) {
	r, err := event.RedactionOf(e)
	if err != nil {
		return nil, err
	}
	if err := s.CheckRedaction(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Redaction returns the redaction of the event at d, if one took effect
// here (whether or not the event is held).
func (s *Store) Redaction(d crdt.Dot) (*event.Redaction, bool) {
	s.waitIndexed()
	r := s.red.get(d)
	return r, r != nil
}

// view returns what readers see of the stored event e at d: its redacted
// form when a redaction of it took effect. Call it after reading e's bytes,
// so that an erasure racing with the read is never seen as a payload.
func (s *Store) view(e *event.Event) *event.Event {
	if e.Redaction != nil {
		return e
	}
	if r := s.red.get(crdt.Dot{Origin: e.Device, Seq: e.Seq}); r != nil {
		return r.Stub()
	}
	return e
}

// Redact redacts the event with the given id as this node's device: it
// signs a redaction with the store's key (redactor Config.Origin, made
// now) and stores the redaction event that carries it, which takes effect
// here in the same commit and reaches every peer like any event. It
// returns the redaction and the redaction event's ack, once durable.
//
// Errors: ErrNotFound when the event is not held here (a node redacts only
// what it holds), an error wrapping event.ErrNotAllowed when this device
// is neither the event's origin nor an operator, ErrNotRedactable for a
// redaction event, and ErrAlreadyRedacted, with the redaction in effect,
// when the event is already redacted (redacting is idempotent).
func (s *Store) Redact(ctx context.Context, id uuid.UUID) (*event.Redaction, Ack, error) {
	s.red.redactMu.Lock()
	defer s.red.redactMu.Unlock()
	e, err := s.GetByID(id)
	if err != nil {
		return nil, Ack{}, err
	}
	if e.Redaction != nil {
		return e.Redaction, Ack{}, ErrAlreadyRedacted
	}
	if e.Type == event.RedactionType {
		return nil, Ack{}, ErrNotRedactable
	}
	r, err := event.NewRedaction(s.cfg.Signer, s.cfg.Origin, e, s.cfg.Clock.Now().UnixMilli())
	if err != nil {
		return nil, Ack{}, err
	}
	if err := r.Authorize(s.IsOperator); err != nil {
		return nil, Ack{}, err
	}
	acks, err := s.ingest(ctx, []event.Input{r.Input()}, true)
	if err != nil {
		return nil, Ack{}, err
	}
	return r, acks[0], nil
}

// FirstRedacted returns the lowest seq at or after from of origin that has
// a redaction here (syncproto.Redactions).
func (s *Store) FirstRedacted(origin string, from uint64) (uint64, bool) {
	if s.red.n.Load() == 0 {
		return 0, false
	}
	var seq uint64
	found := false
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: originPrefix(xRecord, origin)})
		defer it.Close()
		it.Seek(dotKey(xRecord, crdt.Dot{Origin: origin, Seq: from}))
		if it.Valid() {
			if d, err := decodeDot(it.Item().Key()[2:]); err == nil {
				seq, found = d.Seq, true
			}
		}
		return nil
	})
	return seq, found
}

// SealBefore returns the newest seal held for origin below seq
// (syncproto.Redactions).
func (s *Store) SealBefore(origin string, seq uint64) (*event.Seal, bool) {
	if seq <= 1 {
		return nil, false
	}
	seal, err := s.findSeal(origin, seq-1, true)
	if err != nil {
		return nil, false
	}
	return &seal, true
}

// Redactions calls fn with every redaction that took effect here after
// the n-th (0 for all), in the order they took effect, with its number,
// until fn returns an error, which it returns. The numbers are this
// store's own and never change: a sink keeps the last one it handled as
// its cursor and asks for what came after.
func (s *Store) Redactions(after uint64, fn func(n uint64, r *event.Redaction) error) error {
	s.waitIndexed()
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xLog}, PrefetchValues: true})
		defer it.Close()
		for it.Seek(logKey(after + 1)); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != 10 {
				return fmt.Errorf("store: corrupt redaction log key %x", k)
			}
			n := uint64(0)
			for _, b := range k[2:] {
				n = n<<8 | uint64(b)
			}
			var d crdt.Dot
			err := it.Item().Value(func(v []byte) (err error) {
				d, err = decodeDot(v)
				return err
			})
			if err != nil {
				return err
			}
			r := new(event.Redaction)
			item, err := txn.Get(dotKey(xRecord, d))
			if err != nil {
				return fmt.Errorf("store: redaction log entry %d: %w", n, err)
			}
			if err := item.Value(r.UnmarshalBinary); err != nil {
				return err
			}
			if err := fn(n, r); err != nil {
				return err
			}
		}
		return nil
	})
}
