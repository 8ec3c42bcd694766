package jsonscan

// specialBlocks returns the index of the first quote, backslash or control
// byte (below 0x20) in p's whole 16-byte blocks, or the length of those
// blocks (len(p) rounded down to a multiple of 16) when they hold none.
// The bytes after them are left to the caller.
//
//go:noescape
func specialBlocks(p []byte) int
