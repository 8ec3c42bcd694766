package mesh

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// SecretSize is the length of a mesh secret in bytes.
const SecretSize = 32

// ErrInvalidSecret is wrapped by every error ParseSecret returns.
var ErrInvalidSecret = errors.New("mesh: invalid secret")

// swarmKeyHeader opens a libp2p swarm.key file.
const swarmKeyHeader = "/key/swarm/psk/1.0.0/"

// memberlistKeyInfo is the HKDF info string for the memberlist key, so the
// PSK and the memberlist key are never the same bytes.
const memberlistKeyInfo = "rumor memberlist"

// ParseSecret decodes a mesh secret written either as 64 hex characters or
// in libp2p's swarm.key format:
//
//	/key/swarm/psk/1.0.0/
//	/base16/
//	<64 hex characters>
//
// (a /base64/ encoding is accepted too). Surrounding whitespace is ignored.
// Errors wrap ErrInvalidSecret.
func ParseSecret(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, []byte(swarmKeyHeader)) {
		return decodeSecret("/base16/", b)
	}
	lines := bytes.Fields(b)
	if len(lines) != 3 {
		return nil, fmt.Errorf("%w: swarm.key has %d lines, want 3", ErrInvalidSecret, len(lines))
	}
	return decodeSecret(string(lines[1]), lines[2])
}

func decodeSecret(encoding string, text []byte) ([]byte, error) {
	var (
		key []byte
		err error
	)
	switch encoding {
	case "/base16/":
		key = make([]byte, hex.DecodedLen(len(text)))
		_, err = hex.Decode(key, text)
	case "/base64/":
		key = make([]byte, base64.StdEncoding.DecodedLen(len(text)))
		var n int
		n, err = base64.StdEncoding.Decode(key, text)
		key = key[:n]
	default:
		return nil, fmt.Errorf("%w: unsupported encoding %q", ErrInvalidSecret, encoding)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	if len(key) != SecretSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSecret, len(key), SecretSize)
	}
	return key, nil
}

// GenerateSecret returns a new random mesh secret.
func GenerateSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("mesh: generate secret: %w", err)
	}
	return s, nil
}

// EncodeSecret returns s as hex followed by a newline, the form ParseSecret
// reads back.
func EncodeSecret(s []byte) []byte {
	out := make([]byte, hex.EncodedLen(len(s))+1)
	hex.Encode(out, s)
	out[len(out)-1] = '\n'
	return out
}

// memberlistKey derives the memberlist encryption key (AES-256) from the
// mesh secret.
func memberlistKey(secret []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, memberlistKeyInfo, 32)
}
