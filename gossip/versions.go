package gossip

import (
	"errors"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/mesh"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// syncProtocolPrefix is the sync protocol's name under the mesh's
// namespace; the version follows: /rumor/<mesh>/sync/1, sync/2.
const syncProtocolPrefix = "sync/"

// syncProtocols returns the sync protocol IDs a node speaking up to max
// (0: the newest) offers, newest first: libp2p's multistream-select then
// picks, for each stream, the first the listener also speaks, the highest
// version both speak.
func syncProtocols(m *mesh.Mesh, max uint8) []protocol.ID {
	if max == 0 {
		max = syncproto.Version
	}
	var ids []protocol.ID
	for v := max; v >= syncproto.MinVersion; v-- {
		ids = append(ids, m.Protocol(syncProtocolPrefix+strconv.Itoa(int(v))))
	}
	return ids
}

// syncVersion is the version of a negotiated sync protocol ID, 0 if it is
// not one.
func syncVersion(id protocol.ID) uint8 {
	i := strings.LastIndex(string(id), "/"+syncProtocolPrefix)
	if i < 0 {
		return 0
	}
	v, err := strconv.ParseUint(string(id)[i+1+len(syncProtocolPrefix):], 10, 8)
	if err != nil {
		return 0
	}
	return uint8(v)
}

func anyRedacted(events []*event.Event) bool {
	for _, e := range events {
		if e.Redacted() {
			return true
		}
	}
	return false
}

// redactionPolicy is what a store that applies redactions offers:
// *store.Store implements it.
type redactionPolicy interface {
	// CheckRedaction verifies a redaction and its redactor's right here.
	CheckRedaction(r *event.Redaction) error
}

// checkRedactions counts, against the peer that delivered them, the
// redaction events among added whose redaction does not take effect here:
// forged or malformed (redaction_invalid) or by a device that is neither
// the origin nor an operator here (redaction_unauthorized). The events
// themselves are authentic, sealed events of their origin's log and stay
// stored: only their effect is refused, and peers with another operator
// list judge for themselves.
func (r *Replicator) checkRedactions(p peer.ID, added []*event.Event) {
	pol, ok := r.cfg.Store.(redactionPolicy)
	if !ok {
		return
	}
	for _, e := range added {
		if e.Type != event.RedactionType || e.Redacted() {
			continue
		}
		red, err := event.RedactionOf(e)
		if err == nil {
			err = pol.CheckRedaction(red)
		}
		if err == nil {
			continue
		}
		reason := "redaction_invalid"
		if isNotAllowed(err) {
			reason = "redaction_unauthorized"
		}
		r.reject(p, reason)
		r.log.Warn("redaction not applied", "peer", p, "event", e.ID.String(), "device", e.Device, "seq", e.Seq,
			"reason", reason, "err", err)
	}
}

func isNotAllowed(err error) bool { return errors.Is(err, event.ErrNotAllowed) }
