package event

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

func TestSealSignVerify(t *testing.T) {
	key, origin := testKey(t, 1)
	if k2, o2 := testKey(t, 1); o2 != origin || !k2.Equals(key) {
		t.Fatal("seeded key generation is not deterministic")
	}
	head := sampleEvent(t).Hash()
	s, err := NewSeal(key, origin, 42, head)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != origin || s.Seq != 42 || s.Head != head || len(s.Sig) != ed25519.SignatureSize {
		t.Fatalf("seal %+v", s)
	}
	if err := s.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	pub, err := PublicKey(origin)
	if err != nil || !pub.Equals(key.GetPublic()) {
		t.Fatalf("PublicKey = %v, %v", pub, err)
	}
	ok, err := pub.Verify(SignedBytes(origin, 42, head), s.Sig)
	if err != nil || !ok {
		t.Fatal("signature is not over SignedBytes")
	}

	_, other := testKey(t, 2)
	tamper := map[string]func(*Seal){
		"seq":          func(s *Seal) { s.Seq++ },
		"head":         func(s *Seal) { s.Head[0] ^= 1 },
		"sig":          func(s *Seal) { s.Sig[63] ^= 0x40 },
		"short sig":    func(s *Seal) { s.Sig = s.Sig[:63] },
		"no sig":       func(s *Seal) { s.Sig = nil },
		"other origin": func(s *Seal) { s.Origin = other },
		"invalid id":   func(s *Seal) { s.Origin = "not-a-peer-id" },
		"empty origin": func(s *Seal) { s.Origin = "" },
		"long sig":     func(s *Seal) { s.Sig = append(s.Sig, 0) },
		"all-zero sig": func(s *Seal) { s.Sig = make([]byte, ed25519.SignatureSize) },
		"seq and head": func(s *Seal) { s.Seq, s.Head = 41, Hash{} },
	}
	for name, f := range tamper {
		c := s
		c.Sig = append([]byte(nil), s.Sig...)
		f(&c)
		if err := c.Verify(); !errors.Is(err, ErrInvalid) {
			t.Errorf("tampered %s: Verify = %v", name, err)
		}
	}
}

func TestPublicKeyRejects(t *testing.T) {
	secp, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	secpID, err := peer.IDFromPrivateKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := mh.Sum([]byte("an RSA key, say"), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	hashedID, err := peer.IDFromBytes(digest)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"secp256k1":       secpID.String(),
		"hashed key":      hashedID.String(),
		"garbage":         "not-a-peer-id",
		"empty":           "",
		"truncated id":    secpID.String()[:40],
		"base58 non-peer": "1111111111",
	}
	for name, origin := range tests {
		if _, err := PublicKey(origin); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: PublicKey = %v", name, err)
		}
		// A seal from a non-Ed25519 origin never verifies, whatever its signature.
		sig, _ := secp.Sign(SignedBytes(origin, 1, Hash{1}))
		s := Seal{Origin: origin, Seq: 1, Head: Hash{1}, Sig: sig}
		if err := s.Verify(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Verify = %v", name, err)
		}
	}
	if _, err := PublicKey(secpID.String()); err == nil || !strings.Contains(err.Error(), "Ed25519") {
		t.Errorf("secp256k1 error does not say why: %v", err)
	}
}

type failingSigner struct{}

var errNoKey = errors.New("no key")

func (failingSigner) Sign([]byte) ([]byte, error) { return nil, errNoKey }

func TestNewSealSignerError(t *testing.T) {
	s, err := NewSeal(failingSigner{}, "x", 1, Hash{})
	if !errors.Is(err, errNoKey) || s.Sig != nil {
		t.Fatalf("NewSeal = %+v, %v", s, err)
	}
}

func TestSignedBytes(t *testing.T) {
	b := SignedBytes("ab", 0x0102, Hash{31: 9})
	want := append([]byte(sealDomain), 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 1, 2)
	want = append(want, make([]byte, 31)...)
	if want = append(want, 9); !bytes.Equal(b, want) {
		t.Fatalf("SignedBytes = %q", b)
	}
	// The origin is length-prefixed, so origin and seq cannot trade bytes.
	if bytes.Equal(SignedBytes("a", 1, Hash{}), SignedBytes("a\x00", 1, Hash{})) {
		t.Fatal("distinct origins sign the same bytes")
	}
}

func TestSealCodecRoundTrip(t *testing.T) {
	key, origin := testKey(t, 3)
	for _, seq := range []uint64{1, 127, 128, 1 << 40, 1<<64 - 1} {
		s, err := NewSeal(key, origin, seq, Hash{byte(seq), 7})
		if err != nil {
			t.Fatal(err)
		}
		b := s.AppendBinary(nil)
		var got Seal
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("got %+v, want %+v", got, s)
		}
		if err := got.Verify(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.AppendBinary([]byte("x"))[1:], b) {
			t.Fatal("AppendBinary does not append deterministically")
		}
	}
}

func TestSealUnmarshalRejects(t *testing.T) {
	key, origin := testKey(t, 4)
	s, err := NewSeal(key, origin, 300, Hash{9})
	if err != nil {
		t.Fatal(err)
	}
	enc := s.AppendBinary(nil)
	build := func(origin []byte, seq []byte, sig []byte) []byte {
		b := binary.AppendUvarint(nil, uint64(len(origin)))
		b = append(append(b, origin...), seq...)
		b = append(b, s.Head[:]...)
		b = binary.AppendUvarint(b, uint64(len(sig)))
		return append(b, sig...)
	}
	if !bytes.Equal(build([]byte(origin), binary.AppendUvarint(nil, 300), s.Sig), enc) {
		t.Fatal("test encoder disagrees with AppendBinary")
	}
	seq := binary.AppendUvarint(nil, 300)
	bad := map[string][]byte{
		"empty":           nil,
		"trailing byte":   append(append([]byte(nil), enc...), 0),
		"seq 0":           build([]byte(origin), []byte{0}, s.Sig),
		"padded seq":      build([]byte(origin), padded(seq), s.Sig),
		"padded length":   append(padded([]byte{byte(len(origin))}), enc[1:]...),
		"origin too long": build(bytes.Repeat([]byte("o"), MaxDeviceLen+1), seq, s.Sig),
		"short sig":       build([]byte(origin), seq, s.Sig[:63]),
		"long sig":        build([]byte(origin), seq, append(append([]byte(nil), s.Sig...), 0)),
		"no sig":          build([]byte(origin), seq, nil),
		"huge sig length": append(enc[:len(enc)-65], 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for i := range enc {
		bad["truncated at "+itoa(i)] = enc[:i]
	}
	for name, b := range bad {
		target := s
		target.Sig = append([]byte(nil), s.Sig...)
		err := target.UnmarshalBinary(b)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: UnmarshalBinary = %v", name, err)
			continue
		}
		if !reflect.DeepEqual(target, s) {
			t.Errorf("%s: failed decode modified the target", name)
		}
	}
}
