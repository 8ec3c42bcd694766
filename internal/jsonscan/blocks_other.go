//go:build !amd64

package jsonscan

// specialBlocks is the amd64 block scan's portable stand-in: it covers no
// bytes, leaving the whole string to the eight-byte loop.
func specialBlocks(p []byte) int { return 0 }
