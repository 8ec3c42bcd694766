package store

import (
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/event"
)

// UnreferencedBlobs returns the CIDs of cands that no held event
// references: after a Prune, the blobs it may delete. It reads every held
// event, so call it only when the pruned events referenced blobs. An
// event referencing one of them that is stored after the call is not seen;
// its blob is then fetched again from peers on demand.
func (s *Store) UnreferencedBlobs(cands []cid.Cid) ([]cid.Cid, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	want := make(map[string]cid.Cid, len(cands))
	for _, c := range cands {
		want[c.KeyString()] = c
	}
	err := s.Scan(Query{}, func(e *event.Event) error {
		for _, c := range e.Blobs {
			delete(want, c.KeyString())
		}
		if len(want) == 0 {
			return errStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, 0, len(want))
	for _, c := range want {
		out = append(out, c)
	}
	return out, nil
}
