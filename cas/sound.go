package cas

import (
	"crypto/sha256"
	"sync"

	"github.com/ipfs/go-cid"
)

// maxSound bounds how many raw blocks a Store remembers as verified: 65,536,
// that is 64 GiB of full chunks, in about 5 MiB. When the memory is full it
// is cleared, and Missing hashes chunks again as it meets them.
const maxSound = 1 << 16

// soundSet remembers raw blocks whose stored bytes this Store has read back
// from the database and seen hash to their CID (in Missing, GC, GetBlock or
// a blob reader), so that Missing hashes each chunk once rather than on every
// call. Writing a block does not count: what Missing vouches for is the copy
// in the database. It vouches for contents only; presence is always looked
// up. A read that finds a block corrupt, and dropping a block, forget it. Its
// lock is taken last (never held while taking another).
type soundSet struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]struct{} // keyed by digest: every entry is a raw block
}

func newSoundSet() *soundSet { return &soundSet{m: map[[sha256.Size]byte]struct{}{}} }

// soundKey returns the digest of raw block c, or false for a root block.
func soundKey(c cid.Cid) (k [sha256.Size]byte, ok bool) {
	if kd, err := kindOf(c); err != nil || kd != kindRaw {
		return k, false
	}
	copy(k[:], digest(c))
	return k, true
}

// has reports whether raw block c was seen intact.
func (v *soundSet) has(c cid.Cid) bool {
	k, ok := soundKey(c)
	if !ok {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok = v.m[k]
	return ok
}

// note records what verifying the stored bytes of block c found: err nil
// (intact) or not (corrupt, or absent). Root blocks are not recorded.
func (v *soundSet) note(c cid.Cid, err error) {
	k, ok := soundKey(c)
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		delete(v.m, k)
		return
	}
	if len(v.m) >= maxSound {
		clear(v.m)
	}
	v.m[k] = struct{}{}
}
