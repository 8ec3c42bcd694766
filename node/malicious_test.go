package node

import (
	"bufio"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// attacker is a bare libp2p host that speaks the sync protocol by hand.
type attacker struct {
	h      host.Host
	key    crypto.PrivKey
	origin string
}

func newAttacker(t *testing.T, seed byte) *attacker {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	id, _ := peer.IDFromPrivateKey(key)
	return &attacker{h: h, key: key, origin: id.String()}
}

// session opens a sync stream to target and completes the HELLO exchange
// and SYNC_REQ, returning the stream ready for DELTA frames.
func (a *attacker) session(t *testing.T, target *testNode) (network.Stream, *bufio.Reader) {
	t.Helper()
	ma, _ := multiaddr.NewMultiaddr(target.addr(t))
	ai, _ := peer.AddrInfoFromP2pAddr(ma)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.h.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	// The target runs one session per peer: while it is still closing the
	// previous one it refuses a new one, so retry like a polite peer would.
	var s network.Stream
	var br *bufio.Reader
	for {
		var err error
		s, err = a.h.NewStream(ctx, ai.ID, target.Mesh().Protocol("sync/1"))
		if err != nil { // refused while the target's own session to us runs
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		br = bufio.NewReader(s)
		if err := v1Codec.WriteFrame(s, &syncproto.Hello{Schema: 1, Digest: [16]byte{1}, Events: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err = v1Codec.ReadFrame(br); err == nil {
			break
		}
		s.Reset()
		if ctx.Err() != nil {
			t.Fatalf("no HELLO back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctxBytes, _ := crdt.NewContext().MarshalBinary()
	if err := v1Codec.WriteFrame(s, &syncproto.SyncReq{Context: ctxBytes}); err != nil {
		t.Fatal(err)
	}
	return s, br
}

// chain builds n sealed events of origin signed by signer.
func chain(t *testing.T, origin string, signer crypto.PrivKey, n int, tag string) ([]*event.Event, *event.Seal) {
	t.Helper()
	var events []*event.Event
	var prev event.Hash
	var gen event.IDGen
	for i := 1; i <= n; i++ {
		e := &event.Event{ID: gen.Next(int64(1_700_000_000_000 + i)), Device: origin, Seq: uint64(i), TS: 1, Type: "x",
			Schema: 1, Payload: json.RawMessage(`{"tag":"` + tag + `"}`), Prev: prev}
		prev = e.Hash()
		events = append(events, e)
	}
	seal, err := event.NewSeal(signer, origin, uint64(n), prev)
	if err != nil {
		t.Fatal(err)
	}
	return events, &seal
}

// expectRejected reads until the target sends an ERROR or drops the stream.
func expectRejected(t *testing.T, br *bufio.Reader) {
	t.Helper()
	for {
		m, err := v1Codec.ReadFrame(br)
		if err != nil {
			return // stream reset: rejected
		}
		if _, ok := m.(*syncproto.Error); ok {
			return
		}
	}
}

func TestMaliciousPeerIsRejectedAndBanned(t *testing.T) {
	target := startTestNode(t, "", nil)
	target.emit(t, 3, "honest")
	before := target.Store().Summary()
	evil := newAttacker(t, 42)
	other := newAttacker(t, 43)

	// 1. A forged seal: events of "other" sealed with evil's key.
	s, br := evil.session(t, target)
	events, _ := chain(t, other.origin, other.key, 4, "a")
	_, forged := chain(t, other.origin, evil.key, 4, "a")
	forged.Head = events[3].Hash()
	v1Codec.WriteFrame(s, &syncproto.Delta{Events: events, Seal: forged})
	expectRejected(t, br)
	s.Reset()

	// 2. A frame announcing an absurd length: refused before allocation.
	s, br = evil.session(t, target)
	s.Write([]byte{1, byte(syncproto.TypeDelta), 0xff, 0xff, 0xff, 0xff, 0x0f})
	expectRejected(t, br)
	s.Reset()

	// 3. Garbage.
	s, br = evil.session(t, target)
	s.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	expectRejected(t, br)
	s.Reset()

	after := target.Store().Summary()
	if after.Digest != before.Digest {
		t.Fatal("malicious frames changed the store")
	}
	waitFor(t, 10*time.Second, "the attacker to be banned and disconnected", func() bool {
		return target.Mesh().Host().Network().Connectedness(evil.h.ID()) != network.Connected
	})
	ma, _ := multiaddr.NewMultiaddr(target.addr(t))
	ai, _ := peer.AddrInfoFromP2pAddr(ma)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := evil.h.Connect(ctx, *ai); err == nil {
		if _, err := evil.h.NewStream(ctx, ai.ID, target.Mesh().Protocol("sync/1")); err == nil {
			t.Fatal("a banned peer could open a sync stream again")
		}
	}
}

func TestForkedOriginIsDetected(t *testing.T) {
	target := startTestNode(t, "", nil)
	evil := newAttacker(t, 44)
	honest, seal := chain(t, evil.origin, evil.key, 5, "one")
	s, br := evil.session(t, target)
	if err := v1Codec.WriteFrame(s, &syncproto.Delta{Events: honest, Seal: seal}); err != nil {
		t.Fatal(err)
	}
	if err := v1Codec.WriteFrame(s, &syncproto.Done{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first chain to be applied", func() bool {
		return target.Store().Summary().VersionVector[evil.origin] == 5
	})
	s.Reset()
	_ = br
	digest := target.Store().Summary().Digest
	forked, fseal := chain(t, evil.origin, evil.key, 5, "two")
	s, br = evil.session(t, target)
	v1Codec.WriteFrame(s, &syncproto.Delta{Events: forked, Seal: fseal})
	expectRejected(t, br)
	if target.Store().Summary().Digest != digest {
		t.Fatal("a forked chain changed the store")
	}
	forks, err := target.Store().Forks()
	if err != nil || len(forks) != 1 || string(forks[0][0].Payload) != `{"tag":"one"}` || string(forks[0][1].Payload) != `{"tag":"two"}` {
		t.Fatalf("fork evidence not kept: %v %v", forks, err)
	}
	counted := target.Replicator().Rejections()[evil.h.ID()]["fork"]
	if counted == 0 {
		t.Fatal("fork not counted against the peer")
	}
	e, err := target.Store().Get(crdt.Dot{Origin: evil.origin, Seq: 3})
	if err != nil || string(e.Payload) != `{"tag":"one"}` {
		t.Fatalf("held event replaced by the fork: %v %s", err, e.Payload)
	}
}

// v1Codec speaks sync protocol version 1, which the attacker's streams
// (opened on sync/1) negotiate.
var v1Codec, _ = syncproto.NewCodec(syncproto.Version1)
