package simulations

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// epochMS is the wall-clock time of virtual time 0 (2026-01-01T00:00:00Z),
// in epoch milliseconds, for event timestamps and ids.
const epochMS = 1_767_225_600_000

// ledger is the simulator's omniscient record of every event ever
// recorded: what each origin created, when, and how many nodes hold it.
// Replicas of the ledger kind share its events instead of copying them,
// and the invariant checks compare what nodes apply against it.
type ledger struct {
	origins []*origin
	byID    map[string]int32
	total   uint64 // events recorded
	gone    uint64 // events destroyed: every node holding them was wiped
}

// origin is one identity's log.
type origin struct {
	id      string
	key     crypto.PrivKey
	node    int32
	idx     int32
	entries []entry
	lastMS  int64
	counter uint16
}

// entry is one event of an origin's log.
type entry struct {
	ev      *event.Event
	hash    event.Hash
	seal    *event.Seal // the origin's seal at this seq, if a batch ended here
	size    int32       // bytes of the canonical encoding
	holders int32       // nodes holding it
	created int64       // virtual time of its ingest
	blobs   int64       // blob bytes it references
}

func newLedger() *ledger { return &ledger{byID: make(map[string]int32)} }

// deriveKey returns the Ed25519 key of a node's incarnation, derived from
// the run's seed with a ChaCha8 stream, so that keys are reproducible and
// cheap (no system randomness).
func deriveKey(seed uint64, node int32, incarnation uint32) (crypto.PrivKey, string, error) {
	var in [32]byte
	copy(in[:], "rumor-sim-key")
	binary.BigEndian.PutUint64(in[16:], seed)
	binary.BigEndian.PutUint32(in[24:], uint32(node))
	binary.BigEndian.PutUint32(in[28:], incarnation)
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(sha256.Sum256(in[:])))
	if err != nil {
		return nil, "", fmt.Errorf("simulations: derive key: %w", err)
	}
	id, err := peer.IDFromPublicKey(key.GetPublic())
	if err != nil {
		return nil, "", fmt.Errorf("simulations: peer id: %w", err)
	}
	return key, id.String(), nil
}

// newOrigin registers a new identity of node.
func (l *ledger) newOrigin(seed uint64, node int32, incarnation uint32) (*origin, error) {
	key, id, err := deriveKey(seed, node, incarnation)
	if err != nil {
		return nil, err
	}
	o := &origin{id: id, key: key, node: node, idx: int32(len(l.origins))}
	l.origins = append(l.origins, o)
	l.byID[id] = o.idx
	return o, nil
}

// batchSpec describes one ingest.
type batchSpec struct {
	n     int  // events
	pdist Dist // payload bytes
	typ   string
	blobs *Blobs
}

// record appends a sealed batch to o's log at virtual time now (ns) with
// the node's clock offset skew (ns), and returns the new events, their
// hashes and the seal.
func (l *ledger) record(o *origin, r *rand.Rand, now, skew int64, b batchSpec) ([]*event.Event, []event.Hash, *event.Seal, error) {
	events := make([]*event.Event, 0, b.n)
	hashes := make([]event.Hash, 0, b.n)
	var prev event.Hash
	if k := len(o.entries); k > 0 {
		prev = o.entries[k-1].hash
	}
	ms := epochMS + (now+skew)/1e6
	var buf []byte
	for range b.n {
		seq := uint64(len(o.entries)) + 1
		e := &event.Event{
			ID: o.nextID(ms, r), Device: o.id, Seq: seq, TS: ms, Type: b.typ, Schema: 1,
			Payload: payload(seq, r, max(16, int(b.pdist.Sample(r)))), Prev: prev,
		}
		var blobBytes int64
		if b.blobs != nil && r.Float64() < b.blobs.P {
			e.Blobs = blobCIDs(o.id, seq, b.blobs.Count)
			blobBytes = int64(b.blobs.Count) * int64(b.blobs.Size)
		}
		buf = e.AppendBinary(buf[:0])
		prev = sha256.Sum256(buf)
		o.entries = append(o.entries, entry{ev: e, hash: prev, size: int32(len(buf)), created: now, blobs: blobBytes})
		events, hashes = append(events, e), append(hashes, prev)
	}
	last := events[len(events)-1]
	s, err := event.NewSeal(o.key, o.id, last.Seq, prev)
	if err != nil {
		return nil, nil, nil, err
	}
	o.entries[last.Seq-1].seal = &s
	l.total += uint64(len(events))
	return events, hashes, &s, nil
}

// nextID issues a UUIDv7 strictly after the previous one, like
// event.IDGen, with randomness from r.
func (o *origin) nextID(ms int64, r *rand.Rand) [16]byte {
	if ms > o.lastMS {
		o.lastMS, o.counter = ms, 0
	} else if o.counter++; o.counter > 0x0fff {
		o.lastMS++
		o.counter = 0
	}
	var rnd [8]byte
	binary.BigEndian.PutUint64(rnd[:], r.Uint64())
	return event.NewID(o.lastMS, o.counter, rnd)
}

// payload returns a JSON object of about size bytes.
func payload(seq uint64, r *rand.Rand, size int) json.RawMessage {
	head := `{"n":` + strconv.FormatUint(seq, 10) + `,"v":` + strconv.Itoa(r.IntN(100000)) + `,"pad":"`
	pad := max(0, size-len(head)-2)
	return json.RawMessage(head + strings.Repeat("x", pad) + `"}`)
}

// blobCIDs returns count CIDv1 (raw, sha2-256) of blobs the event at
// (origin, seq) references.
func blobCIDs(originID string, seq uint64, count int) []cid.Cid {
	out := make([]cid.Cid, count)
	for i := range out {
		h, _ := mh.Sum([]byte(originID+"/"+strconv.FormatUint(seq, 10)+"/"+strconv.Itoa(i)), mh.SHA2_256, -1)
		out[i] = cid.NewCidV1(cid.Raw, h)
	}
	return out
}

// lookup returns the entry at d, if it exists.
func (l *ledger) lookup(d crdt.Dot) (*entry, *origin) {
	i, ok := l.byID[d.Origin]
	if !ok {
		return nil, nil
	}
	o := l.origins[i]
	if d.Seq == 0 || d.Seq > uint64(len(o.entries)) {
		return nil, o
	}
	return &o.entries[d.Seq-1], o
}

// genuine reports whether e is the event its origin recorded at its dot.
func (l *ledger) genuine(e *event.Event, h event.Hash) bool {
	ent, _ := l.lookup(crdt.Dot{Origin: e.Device, Seq: e.Seq})
	if ent == nil {
		return false
	}
	if ent.ev == e {
		return ent.hash == h
	}
	return ent.hash == h && e.Hash() == h
}

// genuineSeal reports whether s is a seal its origin made.
func (l *ledger) genuineSeal(s *event.Seal) bool {
	ent, _ := l.lookup(crdt.Dot{Origin: s.Origin, Seq: s.Seq})
	if ent == nil || ent.seal == nil {
		return false
	}
	return ent.seal == s || (ent.hash == s.Head && s.Verify() == nil)
}

// context returns the dots of every event some node still holds.
func (l *ledger) context() *crdt.Context {
	c := crdt.NewContext()
	for _, o := range l.origins {
		from := uint64(0)
		for i, e := range o.entries {
			seq := uint64(i + 1)
			if e.holders > 0 && from == 0 {
				from = seq
			}
			if e.holders <= 0 && from != 0 {
				c.AddRange(crdt.Range{Origin: o.id, From: from, To: seq - 1})
				from = 0
			}
		}
		if from != 0 {
			c.AddRange(crdt.Range{Origin: o.id, From: from, To: uint64(len(o.entries))})
		}
	}
	return c
}
