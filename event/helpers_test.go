package event

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

// testKey returns a deterministic Ed25519 key derived from seed and the
// textual peer ID of its public key.
func testKey(t testing.TB, seed byte) (crypto.PrivKey, string) {
	t.Helper()
	var s [32]byte
	s[0] = seed
	priv, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(priv.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return priv, id.String()
}

// testCID returns the CIDv1 (raw codec, sha2-256) of data.
func testCID(t testing.TB, data string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(data), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// testCIDv0 returns the CIDv0 of data.
func testCIDv0(t testing.TB, data string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(data), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV0(h)
}

// testID returns a fixed UUIDv7 whose random part is derived from n.
func testID(n uint64) uuid.UUID {
	var r [8]byte
	binary.BigEndian.PutUint64(r[:], n*0x9e3779b97f4a7c15)
	return NewID(1_700_000_000_000+int64(n), uint16(n), r)
}

// sampleEvent returns a valid event with every field set.
func sampleEvent(t testing.TB) *Event {
	t.Helper()
	return &Event{
		ID:      testID(7),
		Device:  "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN",
		Seq:     42,
		TS:      1_700_000_000_123,
		Type:    "page.view",
		Schema:  3,
		Payload: json.RawMessage(`{"path":"/a","n":[1,2,{"x":null}]}`),
		Blobs:   []cid.Cid{testCID(t, "blob-1"), testCID(t, "blob-2")},
		Prev:    Hash{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
	}
}

// clone returns a deep copy of e.
func clone(e *Event) *Event {
	c := *e
	c.Payload = append(json.RawMessage(nil), e.Payload...)
	if e.Payload == nil {
		c.Payload = nil
	}
	c.Blobs = append([]cid.Cid(nil), e.Blobs...)
	return &c
}

// buildChain returns the events of origin from seq 1 to n, each linked to
// its predecessor, and a seal over the last one.
func buildChain(t testing.TB, key crypto.PrivKey, origin string, n int) ([]*Event, Seal) {
	t.Helper()
	var prev Hash
	events := make([]*Event, n)
	for i := range events {
		seq := uint64(i + 1)
		e := &Event{
			ID: testID(seq), Device: origin, Seq: seq, TS: int64(1000 + i),
			Type: "tick", Schema: 1, Payload: json.RawMessage(`{"i":` + itoa(i) + `}`),
			Prev: prev,
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		events[i] = e
		prev = e.Hash()
	}
	seal, err := NewSeal(key, origin, uint64(n), prev)
	if err != nil {
		t.Fatal(err)
	}
	return events, seal
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// wantInvalid fails t unless err wraps ErrInvalid and mentions every word.
func wantInvalid(t testing.TB, err error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want one wrapping ErrInvalid and naming %q", words)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %q does not wrap ErrInvalid", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not mention %q", err, w)
		}
	}
}
