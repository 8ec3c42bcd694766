package mesh

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParseSecret(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	want := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	want = bytes.Repeat(want, 4)
	b64 := base64.StdEncoding.EncodeToString(want)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"hex", hex64, true},
		{"hex upper case", strings.ToUpper(hex64), true},
		{"hex with whitespace", "  \n" + hex64 + "\n\t", true},
		{"swarm.key base16", "/key/swarm/psk/1.0.0/\n/base16/\n" + hex64 + "\n", true},
		{"swarm.key CRLF", "/key/swarm/psk/1.0.0/\r\n/base16/\r\n" + hex64 + "\r\n", true},
		{"swarm.key base64", "/key/swarm/psk/1.0.0/\n/base64/\n" + b64, true},
		{"empty", "", false},
		{"hex too short", hex64[:62], false},
		{"hex too long", hex64 + "00", false},
		{"hex odd length", hex64[:63], false},
		{"bad hex", "zz" + hex64[2:], false},
		{"swarm.key bad hex", "/key/swarm/psk/1.0.0/\n/base16/\nxx" + hex64[2:], false},
		{"swarm.key short", "/key/swarm/psk/1.0.0/\n/base16/\n" + hex64[:32], false},
		{"swarm.key missing key", "/key/swarm/psk/1.0.0/\n/base16/\n", false},
		{"swarm.key unknown encoding", "/key/swarm/psk/1.0.0/\n/bin/\n" + hex64, false},
		{"swarm.key extra line", "/key/swarm/psk/1.0.0/\n/base16/\n" + hex64 + "\nextra", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret([]byte(tt.in))
			if !tt.ok {
				if !errors.Is(err, ErrInvalidSecret) {
					t.Fatalf("ParseSecret = %x, %v; want ErrInvalidSecret", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ParseSecret = %x, %v; want %x", got, err, want)
			}
		})
	}
}

func TestSecretRoundTrip(t *testing.T) {
	s, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != SecretSize {
		t.Fatalf("GenerateSecret: %d bytes", len(s))
	}
	enc := EncodeSecret(s)
	if len(enc) != 65 || enc[64] != '\n' {
		t.Fatalf("EncodeSecret = %q, want 64 hex and a newline", enc)
	}
	got, err := ParseSecret(enc)
	if err != nil || !bytes.Equal(got, s) {
		t.Fatalf("ParseSecret(EncodeSecret(s)) = %x, %v; want %x", got, err, s)
	}
	s2, _ := GenerateSecret()
	if bytes.Equal(s, s2) {
		t.Fatal("two generated secrets are equal")
	}
}

func TestMemberlistKey(t *testing.T) {
	s := bytes.Repeat([]byte{7}, SecretSize)
	k1, err := memberlistKey(s)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := memberlistKey(s)
	if len(k1) != 32 || !bytes.Equal(k1, k2) {
		t.Fatalf("memberlistKey not a deterministic 32-byte key: %x %x", k1, k2)
	}
	if bytes.Equal(k1, s) {
		t.Fatal("memberlist key equals the PSK")
	}
}
