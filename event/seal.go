package event

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxSealLen bounds a seal's encoding (AppendBinary) within this package's
// limits: a device id of MaxDeviceLen bytes, a seq, the head and an
// Ed25519 signature, each with its length, come to 237 bytes.
const MaxSealLen = 256

// sealDomain separates seal signatures from every other use of the key.
const sealDomain = "rumor/seal/v1\x00"

// Seal is an origin's signature over the head of its hash chain: it vouches
// for every event of Origin up to and including Seq, whose hash is Head.
type Seal struct {
	Origin string // textual peer ID of the signer
	Seq    uint64 // last seq covered
	Head   Hash   // hash of the origin's event at Seq
	Sig    []byte // Ed25519 signature over SignedBytes
}

// SignedBytes returns the bytes a seal's signature covers.
func SignedBytes(origin string, seq uint64, head Hash) []byte {
	b := make([]byte, 0, len(sealDomain)+len(origin)+50)
	b = append(b, sealDomain...)
	b = appendString(b, origin)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, head[:]...)
}

// Signer signs seals for one origin. crypto.PrivKey satisfies it.
type Signer interface {
	// Sign returns a signature over msg.
	Sign(msg []byte) ([]byte, error)
}

var _ Signer = (crypto.PrivKey)(nil)

// NewSeal signs (origin, seq, head) with key.
func NewSeal(key Signer, origin string, seq uint64, head Hash) (Seal, error) {
	sig, err := key.Sign(SignedBytes(origin, seq, head))
	if err != nil {
		return Seal{}, fmt.Errorf("event: sign seal: %w", err)
	}
	return Seal{Origin: origin, Seq: seq, Head: head, Sig: sig}, nil
}

// Verify checks the seal's signature against the public key embedded in the
// origin's peer ID.
func (s *Seal) Verify() error {
	pub, err := PublicKey(s.Origin)
	if err != nil {
		return err
	}
	ok, err := pub.Verify(SignedBytes(s.Origin, s.Seq, s.Head), s.Sig)
	if err != nil || !ok {
		return fmt.Errorf("%w: bad seal signature for %s seq %d", ErrInvalid, s.Origin, s.Seq)
	}
	return nil
}

// PublicKey extracts the Ed25519 public key of a textual peer ID.
func PublicKey(origin string) (crypto.PubKey, error) {
	id, err := peer.Decode(origin)
	if err != nil {
		return nil, fmt.Errorf("%w: device id %q: %v", ErrInvalid, origin, err)
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: device id %q has no embedded key: %v", ErrInvalid, origin, err)
	}
	if pub.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: device id %q is not an Ed25519 key", ErrInvalid, origin)
	}
	return pub, nil
}

// AppendBinary appends the seal's encoding: origin (length + bytes), seq
// (uvarint), head (32 bytes), signature (length + bytes).
func (s *Seal) AppendBinary(b []byte) []byte {
	b = appendString(b, s.Origin)
	b = binary.AppendUvarint(b, s.Seq)
	b = append(b, s.Head[:]...)
	return appendString(b, string(s.Sig))
}

// UnmarshalBinary decodes a seal encoding, checking sizes. It does not
// verify the signature.
func (s *Seal) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	var out Seal
	out.Origin = string(d.lenBytes(MaxDeviceLen, "origin"))
	out.Seq = d.uvarint()
	copy(out.Head[:], d.bytes(32))
	out.Sig = append([]byte(nil), d.lenBytes(ed25519.SignatureSize, "signature")...)
	if d.err == nil && d.off != len(b) {
		d.fail("%d trailing bytes after seal", len(b)-d.off)
	}
	if d.err == nil && (out.Seq == 0 || len(out.Sig) != ed25519.SignatureSize) {
		d.fail("seal with seq %d and %d-byte signature", out.Seq, len(out.Sig))
	}
	if d.err != nil {
		return d.err
	}
	*s = out
	return nil
}
