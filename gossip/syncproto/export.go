package syncproto

import "github.com/rumor-sync/rumor/event"

// VerifyRun checks a contiguous run of one origin's events against the seal
// at its end, walking the hash chain back from the sealed head, and, when
// prev is not nil, that the first event links to prev (the hash of the
// event just before it, when the caller holds that event). It returns the
// events' hashes. Push announcements use it as sessions do.
func VerifyRun(prev *event.Hash, run []*event.Event, seal *event.Seal) ([]event.Hash, error) {
	return verifyRun(prev, run, seal)
}
