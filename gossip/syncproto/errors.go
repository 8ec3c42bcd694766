package syncproto

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decoding error: a frame or message that is
// truncated, oversized, non-canonical, of an unknown version or type, or
// followed by trailing bytes.
var ErrMalformed = errors.New("syncproto: malformed frame")

// ErrProtocol is wrapped by every error that ends a session because the peer
// broke the protocol; the concrete error is a *ProtocolError.
var ErrProtocol = errors.New("syncproto: protocol violation")

// ErrTimeout is wrapped by the error of a session that saw no progress for
// SessionConfig.IdleTicks ticks.
var ErrTimeout = errors.New("syncproto: session timed out")

// ErrRemote is wrapped by the error of a session the peer ended with an ERROR
// frame; the concrete error is a *RemoteError.
var ErrRemote = errors.New("syncproto: peer reported an error")

// ErrClosed is returned by Step on a session that is already over.
var ErrClosed = errors.New("syncproto: session is over")

// Code says why a session failed. It is the code carried by an ERROR frame.
type Code uint8

// Failure codes. Codes this version does not know may arrive in an ERROR
// frame from a newer peer; they are reported as they are.
const (
	CodeMalformed     Code = 1 + iota // a frame or message did not decode
	CodeUnexpected                    // a message arrived in the wrong state
	CodeSchema                        // the peer's schema version is above MaxSchema
	CodeBadHello                      // equal digests with different event counts
	CodeWrongOrigin                   // a DELTA of another origin inside a pending run
	CodeNotContiguous                 // a DELTA that does not continue the pending run
	CodeBrokenChain                   // an event's Prev is not its predecessor's hash
	CodeBadSeal                       // a seal that does not verify or cover the run
	CodeFork                          // a sealed event differs from the one held at its dot
	CodePendingLimit                  // an unsealed run above MaxPendingBytes
	CodeFlowControl                   // an ACK with no DELTA in flight
	CodeTimeout                       // no progress for IdleTicks ticks
	CodeInternal                      // a local failure (replica, misuse, config)
	CodeBadRedaction                  // a redacted event whose redaction is forged or malformed
)

var codeNames = [...]string{
	CodeMalformed: "malformed", CodeUnexpected: "unexpected message", CodeSchema: "schema",
	CodeBadHello: "bad hello", CodeWrongOrigin: "wrong origin", CodeNotContiguous: "not contiguous",
	CodeBrokenChain: "broken chain", CodeBadSeal: "bad seal", CodeFork: "fork",
	CodePendingLimit: "pending limit", CodeFlowControl: "flow control", CodeTimeout: "timeout",
	CodeInternal: "internal", CodeBadRedaction: "bad redaction",
}

// String names the code.
func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// ProtocolError is a violation of the protocol by the peer. It wraps
// ErrProtocol and, when there is one, the underlying cause (a decoding error
// wraps ErrMalformed too).
type ProtocolError struct {
	Code   Code   // what kind of violation
	Detail string // human-readable specifics
	Err    error  // underlying cause, or nil
}

// Error describes the violation.
func (e *ProtocolError) Error() string {
	s := "syncproto: protocol violation (" + e.Code.String() + ")"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrProtocol and the cause.
func (e *ProtocolError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrProtocol}
	}
	return []error{ErrProtocol, e.Err}
}

// violation returns a *ProtocolError with a formatted detail.
func violation(code Code, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// RemoteError is an ERROR frame received from the peer. It wraps ErrRemote.
type RemoteError struct {
	Code Code   // the ERROR frame's code
	Msg  string // the ERROR frame's message
}

// Error describes the peer's report.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("syncproto: peer reported an error (%s): %s", e.Code, e.Msg)
}

// Unwrap returns ErrRemote.
func (e *RemoteError) Unwrap() error { return ErrRemote }

// localError marks a failure on this side (replica, driver misuse).
func localError(format string, args ...any) error {
	return fmt.Errorf("syncproto: local failure: "+format, args...)
}
