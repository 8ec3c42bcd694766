package mesh

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

func TestValidate(t *testing.T) {
	ecdsaKey, _, err := crypto.GenerateECDSAKeyPair(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"zero config but key", func(c *Config) { *c = Config{Key: c.Key} }, true},
		{"open mesh", func(c *Config) { c.Secret = nil }, true},
		{"sink", func(c *Config) { c.Role = RoleSink }, true},
		{"no key", func(c *Config) { c.Key = nil }, false},
		{"not ed25519", func(c *Config) { c.Key = ecdsaKey }, false},
		{"bad listen", func(c *Config) { c.Listen = []string{"127.0.0.1:4001"} }, false},
		{"peer without id", func(c *Config) { c.Peers = []string{"/ip4/127.0.0.1/tcp/4001"} }, false},
		{"mesh with slash", func(c *Config) { c.Mesh = "a/b" }, false},
		{"mesh too long", func(c *Config) { c.Mesh = "0123456789012345678901234567890123" }, false},
		{"short secret", func(c *Config) { c.Secret = make([]byte, 16) }, false},
		{"role with space", func(c *Config) { c.Role = "a sink" }, false},
		{"probe timeout too long", func(c *Config) { c.ProbeTimeout = c.ProbeInterval }, false},
		{"negative duration", func(c *Config) { c.DialTimeout = -time.Second }, false},
		{"redial max below min", func(c *Config) { c.RedialMax = c.RedialMin / 2 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Key = newKey(t)
			cfg.Secret = make([]byte, SecretSize)
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	for attempt := range 70 {
		want := max
		if attempt < 5 {
			want = min << attempt
		}
		for range 20 {
			d := backoff(min, max, attempt)
			if d < want/2 || d > want {
				t.Fatalf("backoff(attempt %d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}
