package syncproto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Ready is the work a Session call hands back to its driver.
type Ready struct {
	// Send are the messages to write to the peer, in order. They are owned
	// by the driver and must not be modified.
	Send []Message
	// Apply are verified events to persist; call Session.Applied once each
	// is durable, in order.
	Apply []Apply
	// Done reports that the session is over: send Send, then close. It is
	// set on exactly one Ready, and never together with Apply (applies
	// emitted earlier are still valid and must still be persisted).
	Done bool
	// Result is the session's outcome, set when Done.
	Result Result
}

// Result is the outcome and trace of a session.
type Result struct {
	EventsIn  uint64 // events received in DELTA frames
	EventsOut uint64 // events sent in DELTA frames
	Applied   uint64 // events applied and acknowledged by the driver
	BytesIn   uint64 // frame bytes received, headers included
	BytesOut  uint64 // frame bytes sent, headers included
	// RoundTrips counts protocol round trips: 1 for the HELLO exchange, 2
	// once SYNC_REQs are exchanged, plus one for each flight of DELTAs that
	// filled the window and had to wait for an ACK. It does not depend on
	// the order in which the driver delivers messages.
	RoundTrips int
	// Ranges are the dots received that this replica did not hold, as
	// maximal ranges sorted by origin then seq.
	Ranges []crdt.Range
	// Sent are the dots sent, as maximal ranges.
	Sent []crdt.Range
	// Forks is evidence of forked origins: pairs of (held, received) events
	// at the same dot, both authentic, with different hashes.
	Forks [][2]event.Event
	// Version is the session's protocol version.
	Version uint8
	// Withheld counts events this side did not send because the session's
	// protocol version cannot carry them (redacted events, and the events
	// before one that no earlier seal covers, in version 1).
	Withheld uint64
	// Refused counts redacted events the peer sent whose redaction this
	// replica's policy does not allow (the redactor is neither the origin
	// nor an operator here): they, and the events of their sealed run
	// before them, were not applied. The peer is not at fault for that
	// (operator lists may differ), so the session goes on.
	Refused uint64
	// Err is nil when the session completed; otherwise it wraps ErrProtocol
	// (a *ProtocolError), ErrRemote (a *RemoteError), ErrTimeout, or is a
	// local failure.
	Err error
}

// Session is one anti-entropy session with one peer: a pure state machine
// that consumes messages, ticks and apply confirmations and returns the
// messages to send and the events to persist (see the package
// documentation). It is not safe for concurrent use.
type Session struct {
	cfg       SessionConfig
	cfgErr    error
	r         Replica
	red       Redactions // r's redaction support, or nil
	codec     Codec      // the session's protocol version
	initiator bool

	started, done, reported bool
	ours                    Hello // the HELLO sent (or to send)
	gotHello                bool
	sentReq, gotReq         bool
	sentDone, gotDone       bool
	idle                    int

	snd sender
	rcv receiver

	got, sent crdt.Context
	res       Result
	out       Ready
}

// NewSession returns a session over r. The initiator sends the first
// HELLO. A cfg that fails Validate makes the session fail at Start with a
// local error.
func NewSession(cfg SessionConfig, r Replica, initiator bool) *Session {
	s := &Session{cfg: cfg.withDefaults(), cfgErr: cfg.Validate(), r: r, initiator: initiator}
	if r == nil && s.cfgErr == nil {
		s.cfgErr = errors.New("syncproto: nil Replica")
	}
	s.red, _ = r.(Redactions)
	s.codec = Codec{version: s.cfg.Version}
	s.res.Version = s.cfg.Version
	return s
}

// Start starts the session: the initiator's Ready carries its HELLO, the
// responder's is empty. Later calls return an empty Ready.
func (s *Session) Start() Ready {
	s.start()
	return s.take()
}

func (s *Session) start() {
	if s.started || s.done {
		return
	}
	s.started = true
	if s.cfgErr != nil {
		s.fail(s.cfgErr)
		return
	}
	if s.initiator {
		s.ours = s.hello()
		h := s.ours
		s.send(&h)
	}
}

// Step handles one message from the peer. The error is non-nil if this
// message ended the session with a failure (the same error as
// Ready.Result.Err), or ErrClosed if the session was already over.
func (s *Session) Step(m Message) (Ready, error) {
	if s.done {
		return Ready{}, ErrClosed
	}
	s.start()
	if s.done {
		rd := s.take()
		return rd, rd.Result.Err
	}
	s.idle = 0
	if m != nil {
		s.res.BytesIn += uint64(s.codec.FrameSize(m))
	}
	if err := s.step(m); err != nil {
		s.fail(err)
	}
	s.maybeFinish()
	rd := s.take()
	if rd.Done && rd.Result.Err != nil {
		return rd, rd.Result.Err
	}
	return rd, nil
}

// Applied confirms that the oldest n Apply effects not yet confirmed are
// durable; the session then acknowledges them to the peer. It is a no-op
// on a session that is over.
func (s *Session) Applied(n int) Ready {
	if s.done {
		return Ready{}
	}
	if n <= 0 || n > len(s.rcv.applying) {
		s.fail(localError("Applied(%d) with %d applies outstanding", n, len(s.rcv.applying)))
		return s.take()
	}
	s.idle = 0
	s.applied(n)
	s.maybeFinish()
	return s.take()
}

// Tick advances the session's clock by one tick. After
// SessionConfig.IdleTicks ticks with no message and no Applied the session
// fails with ErrTimeout.
func (s *Session) Tick() Ready {
	if s.done || !s.started {
		return Ready{}
	}
	s.idle++
	if s.idle >= s.cfg.IdleTicks {
		s.fail(fmt.Errorf("%w after %d idle ticks", ErrTimeout, s.idle))
	}
	return s.take()
}

// Abort ends the session because of err, from the driver: a frame that did
// not decode (err wraps ErrMalformed: the peer broke the protocol) or a
// transport failure. The Ready carries an ERROR for the peer.
func (s *Session) Abort(err error) Ready {
	if s.done {
		return Ready{}
	}
	s.started = true
	if errors.Is(err, ErrMalformed) {
		err = &ProtocolError{Code: CodeMalformed, Err: err}
	} else {
		err = fmt.Errorf("syncproto: session aborted: %w", err)
	}
	s.fail(err)
	return s.take()
}

// Done reports whether the session is over.
func (s *Session) Done() bool { return s.done }

func (s *Session) step(m Message) error {
	switch m := m.(type) {
	case *Error:
		return &RemoteError{Code: m.Code, Msg: m.Msg}
	case *Hello:
		return s.onHello(m)
	case *SyncReq:
		return s.onSyncReq(m)
	case *Delta:
		return s.onDelta(m)
	case *Ack:
		return s.onAck(m)
	case *Done:
		return s.onDone()
	case nil:
		return violation(CodeMalformed, "nil message")
	}
	return violation(CodeMalformed, "unknown message %T", m)
}

func (s *Session) hello() Hello {
	ctx := s.r.Context()
	h := Hello{Schema: s.cfg.Schema, Digest: digest16(ctx), Events: ctx.Len()}
	if s.cfg.Version >= Version2 {
		h.Versions = SupportedVersions
	}
	return h
}

func (s *Session) onHello(h *Hello) error {
	if s.gotHello {
		return violation(CodeUnexpected, "second HELLO")
	}
	s.gotHello = true
	if h.Schema > s.cfg.MaxSchema {
		return violation(CodeSchema, "peer schema %d above %d", h.Schema, s.cfg.MaxSchema)
	}
	if !s.initiator {
		s.ours = s.hello()
		ours := s.ours
		s.send(&ours)
	}
	s.rcv.digest = s.ours.Digest
	s.res.RoundTrips = 1
	if h.Digest == s.ours.Digest {
		if h.Events != s.ours.Events {
			return violation(CodeBadHello, "equal digests, %d events against %d", h.Events, s.ours.Events)
		}
		s.finish()
		return nil
	}
	ctx := s.r.Context()
	enc, err := ctx.MarshalBinary()
	if err != nil {
		return localError("encode context: %w", err)
	}
	if len(enc) > MaxFrame {
		return localError("context of %d bytes exceeds the %d-byte frame limit", len(enc), MaxFrame)
	}
	s.send(&SyncReq{Context: enc})
	s.sentReq = true
	return nil
}

func (s *Session) onSyncReq(q *SyncReq) error {
	if !s.sentReq || s.gotReq {
		return violation(CodeUnexpected, "SYNC_REQ")
	}
	peer, err := q.decodedContext()
	if err != nil {
		return &ProtocolError{Code: CodeMalformed, Err: err}
	}
	s.gotReq = true
	s.res.RoundTrips = 2
	s.snd.ranges = clipFloors(s.r, s.r.Context().Missing(peer))
	return s.pump()
}

func (s *Session) onAck(*Ack) error {
	if s.snd.inflight == 0 {
		return violation(CodeFlowControl, "ACK with no DELTA in flight")
	}
	sn := &s.snd
	sn.inflight--
	sn.acked++
	// A stall costs a round trip unless the ACK ending it is for a frame of
	// the flight whose wait was already counted.
	if sn.stalled && sn.acked > sn.mark {
		s.res.RoundTrips++
		sn.mark = sn.frames
	}
	sn.stalled = false
	return s.pump()
}

func (s *Session) onDone() error {
	switch {
	case !s.sentReq || s.gotDone:
		return violation(CodeUnexpected, "DONE")
	case len(s.rcv.pend) > 0:
		return violation(CodeNotContiguous, "DONE inside an unsealed run")
	}
	s.gotDone = true
	return nil
}

func (s *Session) maybeFinish() {
	if !s.done && s.sentDone && s.gotDone && s.snd.inflight == 0 && s.rcv.quiet() {
		s.finish()
	}
}

func (s *Session) send(m Message) {
	s.res.BytesOut += uint64(s.codec.FrameSize(m))
	s.out.Send = append(s.out.Send, m)
}

func (s *Session) finish() { s.done = true }

// fail ends the session with err, telling the peer why unless the peer
// ended it.
func (s *Session) fail(err error) {
	if s.done {
		return
	}
	var pe *ProtocolError
	var re *RemoteError
	switch {
	case errors.As(err, &re):
	case errors.As(err, &pe):
		// The detail may quote the peer's bytes: make it valid UTF-8.
		msg := strings.ToValidUTF8(pe.Error(), "\uFFFD")
		s.send(&Error{Code: pe.Code, Msg: truncateUTF8(msg, MaxErrorMsg)})
	case errors.Is(err, ErrTimeout):
		s.send(&Error{Code: CodeTimeout, Msg: "timed out"})
	default:
		s.send(&Error{Code: CodeInternal, Msg: "internal error"})
	}
	s.res.Err = err
	s.done = true
}

// take returns the accumulated Ready, with the Result once the session is
// over.
func (s *Session) take() Ready {
	rd := s.out
	s.out = Ready{}
	if s.done && !s.reported {
		s.reported = true
		s.res.Ranges, s.res.Sent = s.got.Ranges(), s.sent.Ranges()
		rd.Done, rd.Result = true, s.res
	}
	return rd
}
