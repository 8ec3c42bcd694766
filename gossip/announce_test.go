package gossip

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
)

func sealedRun(t testing.TB, seed byte, n int) ([]*event.Event, event.Seal) {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	var gen event.IDGen
	var prev event.Hash
	var events []*event.Event
	for i := 1; i <= n; i++ {
		e := &event.Event{ID: gen.Next(1_700_000_000_000), Device: id.String(), Seq: uint64(i), TS: 5,
			Type: "t", Schema: 1, Payload: json.RawMessage(`{"i":1}`), Prev: prev}
		prev = e.Hash()
		events = append(events, e)
	}
	seal, err := event.NewSeal(key, id.String(), uint64(n), prev)
	if err != nil {
		t.Fatal(err)
	}
	return events, seal
}

func TestAnnounceRoundTrip(t *testing.T) {
	events, seal := sealedRun(t, 1, 5)
	for _, a := range []*Announce{{Seal: seal}, {Seal: seal, Events: events}, {Seal: seal, Events: events[3:]}} {
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Announce
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got.Seal.Seq != a.Seal.Seq || len(got.Events) != len(a.Events) {
			t.Fatalf("round trip: %+v", got)
		}
		for i := range got.Events {
			if got.Events[i].Hash() != a.Events[i].Hash() {
				t.Fatalf("event %d changed", i)
			}
		}
	}
}

func TestAnnounceRejectsBadShape(t *testing.T) {
	events, seal := sealedRun(t, 2, 5)
	other, _ := sealedRun(t, 3, 5)
	cases := map[string]*Announce{
		"not ending at seal": {Seal: seal, Events: events[:4]},
		"gap":                {Seal: seal, Events: []*event.Event{events[1], events[4]}},
		"other origin":       {Seal: seal, Events: other},
	}
	for name, a := range cases {
		b, _ := a.MarshalBinary()
		var got Announce
		if err := got.UnmarshalBinary(b); !errors.Is(err, ErrBadAnnounce) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	good, _ := (&Announce{Seal: seal, Events: events}).MarshalBinary()
	for i := 0; i < len(good); i++ {
		var got Announce
		if err := got.UnmarshalBinary(good[:i]); err == nil {
			t.Fatalf("truncation at %d accepted", i)
		}
	}
	var got Announce
	if err := got.UnmarshalBinary(append(good, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

// FuzzAnnounceUnmarshal: the decoder never panics, and what it accepts
// re-encodes to the same bytes.
func FuzzAnnounceUnmarshal(f *testing.F) {
	events, seal := sealedRun(f, 4, 3)
	b, _ := (&Announce{Seal: seal, Events: events}).MarshalBinary()
	f.Add(b)
	b, _ = (&Announce{Seal: seal}).MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Announce
		if a.UnmarshalBinary(data) != nil {
			return
		}
		again, err := a.MarshalBinary()
		if err != nil || string(again) != string(data) {
			t.Fatalf("accepted input does not re-encode identically")
		}
	})
}
