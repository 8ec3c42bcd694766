package syncproto

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (default: each test's own, or $RUMOR_SEED)")

// testSeed returns the seed of a randomized test: -seed, else $RUMOR_SEED,
// else def. It logs it so that a failure can be replayed.
func testSeed(t testing.TB, def uint64) uint64 {
	t.Helper()
	seed := def
	if s := os.Getenv("RUMOR_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RUMOR_SEED: %v", err)
		}
		seed = v
	}
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	t.Logf("seed %d (replay: go test -run '^%s$' -seed %d)", seed, strings.Split(t.Name(), "/")[0], seed)
	return seed
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// testOrigin is a device: an Ed25519 libp2p key and its textual peer ID.
type testOrigin struct {
	key crypto.PrivKey
	id  string
}

// newOrigin derives a key deterministically from seed.
func newOrigin(t testing.TB, seed uint64) testOrigin {
	t.Helper()
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	s[31] = 0x5a
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(key.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return testOrigin{key: key, id: id.String()}
}

func newOrigins(t testing.TB, n int, base uint64) []testOrigin {
	out := make([]testOrigin, n)
	for i := range out {
		out[i] = newOrigin(t, base+uint64(i))
	}
	return out
}

// testBatch is one durable batch of an origin: events and the seal over the
// last one.
type testBatch struct {
	events []*event.Event
	seal   *event.Seal
}

func (b testBatch) apply(t testing.TB, r *MemReplica) {
	t.Helper()
	if _, err := r.Apply(Apply{Events: b.events, Seals: []*event.Seal{b.seal}}); err != nil {
		t.Fatal(err)
	}
}

func applyAll(t testing.TB, r *MemReplica, batches []testBatch) {
	t.Helper()
	for _, b := range batches {
		b.apply(t, r)
	}
}

// buildLog returns o's events 1..n in batches of batch events, each sealed,
// with payloads of exactly payload bytes (at least 16). variant changes
// every payload, to build a fork of the same origin.
func buildLog(t testing.TB, o testOrigin, n, batch, payload int, variant byte) []testBatch {
	t.Helper()
	var out []testBatch
	var prev event.Hash
	var cur []*event.Event
	for i := 1; i <= n; i++ {
		seq := uint64(i)
		e := &event.Event{
			ID: testID(o.id, seq), Device: o.id, Seq: seq, TS: 1_700_000_000_000 + int64(i),
			Type: "tick", Schema: 1, Payload: testPayload(seq, payload, variant), Prev: prev,
		}
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash()
		cur = append(cur, e)
		if len(cur) == batch || i == n {
			s, err := event.NewSeal(o.key, o.id, seq, prev)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, testBatch{events: cur, seal: &s})
			cur = nil
		}
	}
	return out
}

func testID(origin string, seq uint64) [16]byte {
	var r [8]byte
	binary.BigEndian.PutUint64(r[:], seq*0x9e3779b97f4a7c15^uint64(len(origin))<<56^uint64(origin[len(origin)-1]))
	return event.NewID(1_700_000_000_000+int64(seq), uint16(seq), r)
}

func testPayload(seq uint64, size int, variant byte) json.RawMessage {
	fill := strconv.FormatUint(seq, 10) + string('a'+variant%26)
	fill += strings.Repeat("x", max(0, size-8-len(fill)))
	return json.RawMessage(`{"p":"` + fill + `"}`)
}

// encodedBytes is the total canonical-encoding size of the batches' events.
func encodedBytes(batches []testBatch) int {
	n := 0
	for _, b := range batches {
		for _, e := range b.events {
			n += len(e.AppendBinary(nil))
		}
	}
	return n
}

// allEvents flattens batches.
func allEvents(batches []testBatch) []*event.Event {
	var out []*event.Event
	for _, b := range batches {
		out = append(out, b.events...)
	}
	return out
}

// mustEqualContexts fails t unless every replica holds the same dots.
func mustEqualContexts(t testing.TB, rs ...*MemReplica) {
	t.Helper()
	for i := 1; i < len(rs); i++ {
		if !rs[0].Context().Equal(rs[i].Context()) {
			t.Fatalf("replica %d differs from replica 0: %v vs %v", i, rs[i].Context().Ranges(), rs[0].Context().Ranges())
		}
	}
}

// mustVerify fails t unless every replica's content is valid and genuine.
func mustVerify(t testing.TB, genuine map[event.Hash]bool, rs ...*MemReplica) {
	t.Helper()
	for i, r := range rs {
		if err := r.Verify(); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		if genuine == nil {
			continue
		}
		for _, rg := range r.Context().Ranges() {
			for seq := rg.From; seq <= rg.To; seq++ {
				h, _ := r.Hash(crdt.Dot{Origin: rg.Origin, Seq: seq})
				if !genuine[h] {
					t.Fatalf("replica %d holds a non-genuine event at %s/%d", i, rg.Origin, seq)
				}
			}
		}
	}
}

func genuineSet(logs ...[]testBatch) map[event.Hash]bool {
	m := make(map[event.Hash]bool)
	for _, l := range logs {
		for _, e := range allEvents(l) {
			m[e.Hash()] = true
		}
	}
	return m
}

// runSession runs one fault-free session between a (initiator) and b.
func runSession(t testing.TB, seed uint64, a, b *MemReplica, cfg SessionConfig) SimOutcome {
	t.Helper()
	net := &SimNet{Rand: newRand(seed)}
	o, err := net.Run(a, b, cfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Initiator.Err != nil || o.Responder.Err != nil {
		t.Fatalf("session failed: initiator %v; responder %v", o.Initiator.Err, o.Responder.Err)
	}
	return o
}
