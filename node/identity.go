package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// IdentityFile is the name of the private key file in the data directory.
const IdentityFile = "identity.key"

// Identity is a device's Ed25519 key pair; its peer ID is the device id.
type Identity struct {
	Key crypto.PrivKey
	ID  peer.ID
}

// LoadIdentity reads the identity in dir, creating it (mode 0600) on first
// start.
func LoadIdentity(dir string) (Identity, error) {
	path := filepath.Join(dir, IdentityFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createIdentity(dir, path)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("node: read identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return Identity{}, fmt.Errorf("node: identity %s is corrupt: %w", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return Identity{}, fmt.Errorf("node: identity %s is not an Ed25519 key", path)
	}
	return identityOf(key)
}

func createIdentity(dir, path string) (Identity, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return Identity{}, fmt.Errorf("node: generate identity: %w", err)
	}
	b, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return Identity{}, fmt.Errorf("node: encode identity: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Identity{}, fmt.Errorf("node: create data dir: %w", err)
	}
	if err := writeFileSync(path, b, 0o600); err != nil {
		return Identity{}, fmt.Errorf("node: write identity: %w", err)
	}
	return identityOf(key)
}

func identityOf(key crypto.PrivKey) (Identity, error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return Identity{}, fmt.Errorf("node: peer id: %w", err)
	}
	return Identity{Key: key, ID: id}, nil
}

// writeFileSync writes a file atomically: temp file, fsync, rename, dir fsync.
func writeFileSync(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
