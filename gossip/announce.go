package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rumor-sync/rumor/event"
)

// announceVersion is the first byte of every announcement.
const announceVersion = 1

// MaxAnnounceBytes bounds an encoded announcement.
const MaxAnnounceBytes = 1 << 20

// ErrBadAnnounce is wrapped by every announcement decoding error.
var ErrBadAnnounce = errors.New("gossip: malformed announcement")

// Announce is a push message: the new head of an origin's log, as its
// seal, with the events up to it inline when they are few.
type Announce struct {
	Seal   event.Seal
	Events []*event.Event // contiguous, ending at Seal.Seq; may be empty
}

// MarshalBinary encodes a: version, seal (length + bytes), event count,
// then each event's canonical encoding (length + bytes). Inline events
// must be whole: the announcement format is shared by every protocol
// version, and a redacted event is announced by its seal alone.
func (a *Announce) MarshalBinary() ([]byte, error) {
	if anyRedacted(a.Events) {
		return nil, errors.New("gossip: an announcement cannot carry redacted events")
	}
	b := []byte{announceVersion}
	seal := a.Seal.AppendBinary(nil)
	b = binary.AppendUvarint(b, uint64(len(seal)))
	b = append(b, seal...)
	b = binary.AppendUvarint(b, uint64(len(a.Events)))
	for _, e := range a.Events {
		enc := e.AppendBinary(nil)
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	if len(b) > MaxAnnounceBytes {
		return nil, fmt.Errorf("gossip: announcement of %d bytes exceeds %d", len(b), MaxAnnounceBytes)
	}
	return b, nil
}

// UnmarshalBinary decodes and validates an announcement's structure: sizes,
// each event's fields, one origin, contiguous seqs ending at the seal. It
// does not check signatures or hash links (see verifyAnnounce).
func (a *Announce) UnmarshalBinary(b []byte) error {
	if len(b) > MaxAnnounceBytes {
		return fmt.Errorf("%w: %d bytes", ErrBadAnnounce, len(b))
	}
	if len(b) == 0 || b[0] != announceVersion {
		return fmt.Errorf("%w: unknown version", ErrBadAnnounce)
	}
	rest := b[1:]
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, fmt.Errorf("%w: truncated", ErrBadAnnounce)
		}
		field := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return field, nil
	}
	var out Announce
	sb, err := next()
	if err != nil {
		return err
	}
	if err := out.Seal.UnmarshalBinary(sb); err != nil {
		return fmt.Errorf("%w: seal: %v", ErrBadAnnounce, err)
	}
	count, k := binary.Uvarint(rest)
	if k <= 0 || count > uint64(len(rest)) {
		return fmt.Errorf("%w: bad event count", ErrBadAnnounce)
	}
	rest = rest[k:]
	for i := uint64(0); i < count; i++ {
		eb, err := next()
		if err != nil {
			return err
		}
		e, err := event.Decode(eb)
		if err != nil {
			return fmt.Errorf("%w: event %d: %v", ErrBadAnnounce, i, err)
		}
		if e.Redacted() { // announcements carry whole events only, as in every version
			return fmt.Errorf("%w: event %d is redacted", ErrBadAnnounce, i)
		}
		out.Events = append(out.Events, e)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrBadAnnounce, len(rest))
	}
	if err := out.checkShape(); err != nil {
		return err
	}
	*a = out
	return nil
}

// checkShape checks the events are one origin's contiguous run ending at
// the seal.
func (a *Announce) checkShape() error {
	n := len(a.Events)
	if n == 0 {
		return nil
	}
	last := a.Events[n-1]
	if last.Device != a.Seal.Origin || last.Seq != a.Seal.Seq {
		return fmt.Errorf("%w: events do not end at the seal", ErrBadAnnounce)
	}
	for i, e := range a.Events {
		if e.Device != a.Seal.Origin || e.Seq != a.Seal.Seq-uint64(n-1-i) {
			return fmt.Errorf("%w: events are not one contiguous run", ErrBadAnnounce)
		}
	}
	return nil
}
