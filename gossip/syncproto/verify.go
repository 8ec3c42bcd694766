package syncproto

import (
	"crypto/sha256"

	"github.com/rumor-sync/rumor/event"
)

// verifyRun checks that run is an authentic contiguous piece of one origin's
// log, backwards from seal: seal is a valid signature of the origin (the
// device ID is its public key) over the hash of the last event, and each
// event's Prev is the hash of the event before it, so the seal vouches for
// every event of the run. prev, when not nil, is the hash the first event
// must follow (the held event at seq-1, or zero for seq 1); when nil the
// run is still authentic, as the seal binds the head and each Prev binds its
// predecessor. A redacted event counts with the original's hash and Prev,
// which its redaction carries: the run verifies without the payload (the
// redaction's own signature is checked separately, against the replica's
// policy). Events must already have passed event.Validate. It returns
// the events' hashes. Errors are *ProtocolError with CodeNotContiguous,
// CodeWrongOrigin, CodeBrokenChain or CodeBadSeal.
func verifyRun(prev *event.Hash, run []*event.Event, seal *event.Seal) ([]event.Hash, error) {
	return verifyRunEncoded(prev, run, nil, seal)
}

// verifyRunEncoded is verifyRun given, where encs[i] is not nil, run[i]'s
// canonical encoding as received (the decoder accepts only canonical
// encodings, so it is what AppendBinary would give): hashed as it is.
func verifyRunEncoded(prev *event.Hash, run []*event.Event, encs [][]byte, seal *event.Seal) ([]event.Hash, error) {
	if len(run) == 0 {
		return nil, violation(CodeNotContiguous, "empty run")
	}
	if seal == nil {
		return nil, violation(CodeBadSeal, "run without a seal")
	}
	first := run[0]
	origin := first.Device
	hashes := make([]event.Hash, len(run))
	var buf []byte
	for i, e := range run {
		switch {
		case e.Device != origin:
			return nil, violation(CodeWrongOrigin, "event %s/%d in a run of %s", e.Device, e.Seq, origin)
		case i > 0 && (run[i-1].Seq == ^uint64(0) || e.Seq != run[i-1].Seq+1):
			return nil, violation(CodeNotContiguous, "seq %d after %d in run of %s", e.Seq, run[i-1].Seq, origin)
		case i > 0 && e.Prev != hashes[i-1]:
			return nil, violation(CodeBrokenChain, "event %s/%d does not follow its predecessor", origin, e.Seq)
		}
		if e.Redaction != nil { // a redacted event keeps the original's hash
			hashes[i] = e.Redaction.Hash
			continue
		}
		if i < len(encs) && encs[i] != nil {
			hashes[i] = sha256.Sum256(encs[i])
			continue
		}
		buf = e.AppendBinary(buf[:0])
		hashes[i] = sha256.Sum256(buf) // e.Hash(), without an allocation per event
	}
	switch {
	case first.Seq == 1 && !first.Prev.IsZero():
		return nil, violation(CodeBrokenChain, "event %s/1 has a predecessor hash", origin)
	case prev != nil && first.Prev != *prev:
		return nil, violation(CodeBrokenChain, "event %s/%d does not follow the held predecessor", origin, first.Seq)
	}
	last := run[len(run)-1]
	if seal.Origin != origin || seal.Seq != last.Seq || seal.Head != hashes[len(run)-1] {
		return nil, violation(CodeBadSeal, "seal %s/%d does not cover the run's head %s/%d", seal.Origin, seal.Seq, origin, last.Seq)
	}
	if err := seal.Verify(); err != nil {
		return nil, &ProtocolError{Code: CodeBadSeal, Detail: "seal of " + origin, Err: err}
	}
	return hashes, nil
}
