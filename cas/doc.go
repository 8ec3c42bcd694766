// Package cas is rumor's content-addressed blob store, kept in the node's
// badger database.
//
// # Identity
//
// A blob is named by its CID. A blob of at most ChunkSize bytes (including the
// empty blob) is a single raw block: CIDv1, raw codec (0x55), sha2-256, written
// in base32 lower case ("bafkrei…"). That is the CID IPFS gives a raw leaf, so
// small blobs interoperate with IPFS as they are. A larger blob is cut into
// raw blocks of exactly ChunkSize bytes (the last one holds the remaining
// 1..ChunkSize bytes) and named by a root block: CIDv1, dag-cbor codec (0x71),
// sha2-256 ("bafyrei…"). Every byte string therefore has exactly one CID, and
// identical bytes (whole blobs or single chunks) are stored once.
//
// # Root block format
//
// The root block is the deterministic (canonical) dag-cbor encoding of the map
// {"size": N, "chunks": [c0, c1, …]}:
//
//	a2                         map of 2 pairs, keys in dag-cbor order (length first)
//	64 73 69 7a 65             "size"
//	<uint N>                   logical blob size, minimal-length CBOR unsigned integer
//	66 63 68 75 6e 6b 73       "chunks"
//	<array header n>           minimal-length CBOR array header
//	n × (d8 2a 58 25 00 <cid>) tag 42, 37-byte string: 0x00 + 36-byte binary raw CIDv1
//
// The decoder accepts nothing else: the size must satisfy
// ChunkSize < N <= MaxSize, n must equal ceil(N/ChunkSize), every link must be
// a raw sha2-256 CIDv1, the block must be at most MaxRootSize bytes, and there
// must be no trailing bytes. Decoding and re-encoding an accepted block yields
// the same bytes.
//
// # Storage
//
// The Store shares a *badger.DB with the rest of the node; all its keys live
// under the caller's prefix P:
//
//	P 'b' <cid bytes>  a block (raw chunk or root block), exactly as hashed
//	P 'r' <cid bytes>  reference record of a raw block: a flag byte (bit 0: stored
//	                   as a blob of its own) and a uvarint count of the stored
//	                   roots that link to it
//	P 's' <cid bytes>  logical size of a root, 8 bytes big endian (O(1) Stat)
//	P 'n'              total bytes of all stored blocks, 8 bytes big endian
//
// In an in-memory badger DB a block is stored in pieces of at most 256 KiB
// (P 'b' <cid>, then P 'b' <cid> <i> for i = 1, 2, …): badger v4.9.6 in memory
// mode rejects values larger than its ValueThreshold (1 MiB at most) and
// crashes on a value of exactly that size, which every full chunk is. On disk
// a block is one value (full chunks land in badger's value log). An in-memory
// DB therefore needs a ValueThreshold above 256 KiB (the default is 1 MiB).
//
// Writes are badger transactions, serialized by a mutex of the Store; reads
// run in parallel. Each transaction updates the byte counter with the blocks
// it adds or removes. A raw block is removed when it is neither a blob of its
// own nor linked from a stored root. To fit badger's transaction limits, the
// references of a root are updated in batches of 256: written before the root
// block appears, released after it is gone. A crash in between can only leave
// counts too high (chunks kept too long), which GC corrects.
//
// # Lifecycle
//
//	s, err := cas.New(db, []byte("blob/"))
//	c, n, err := s.Put(ctx, r, 64<<20)     // stream in, at most 64 MiB
//	rc, n, err := s.Open(ctx, c)           // stream out, every chunk verified
//	defer rc.Close()
//	err = s.Delete(c)
//
// Exchanging a blob with a peer uses blocks: the receiver asks Missing(c)
// (first the root, then its absent or corrupt chunks), the sender answers
// with GetBlock, the receiver stores each with PutBlock, which verifies it.
// PutBlock also repairs a block stored corrupt. Reads verify every block
// against its CID and report ErrCorrupt on a mismatch. A stored root's
// chunks stay counted while its copy is corrupt, so its repair links nothing
// again; GC removes a root block that fails its hash (its links cannot be
// trusted), after which the repair stores it anew and links its chunks once.
//
// Put writes each chunk as it is read, so about one ChunkSize of the input is
// buffered. If Put fails (read error, cancelled context, limit exceeded) no
// root is written and the chunks it wrote that nothing else uses are removed
// before it returns. Likewise a Put whose blob is deleted concurrently, after
// its root is stored, removes before it returns the chunks that Delete had to
// leave to it. Only a crash in the middle of a Put leaves unreferenced chunks
// behind; they are invisible (no blob names them), counted by Bytes, and
// removed by GC, a mark-and-sweep pass that also rebuilds the reference
// counts and the byte counter, and removes corrupt root blocks with the
// chunks only they used, and corrupt raw blocks (run it at start-up, or
// rarely). The byte counter counts each block at the length the store wrote;
// a copy corrupted on disk keeps that count until it is repaired (which
// then changes nothing) or GC removes it (so GC, which counts the lengths it
// finds, leaves no corrupt block behind).
//
// # Verification
//
// Missing (and Has) count a block whose stored bytes fail its hash as
// missing, so that fetching it from a peer repairs it. Hashing every chunk
// on every call would make Missing read the whole blob (some hundreds of
// times the cost of looking the chunks up, for 64 MiB on disk:
// BenchmarkMissing), so a Store remembers, in memory, the raw blocks it has read back from the
// database and seen intact: by Missing, GC, GetBlock or a blob reader, not by
// writing them. Missing hashes a raw block it does not remember and only
// looks up one it does. A read that finds a block corrupt forgets it, so
// that Missing lists it from then on (a block removed is forgotten too). The
// memory holds at most 65,536 blocks (64 GiB of chunks, in about 5 MiB) and
// is cleared when full. It is lost with the Store, and GC (which the node
// runs at start-up) hashes every block and removes raw blocks that fail. So
// damage done on disk to a block already seen intact is listed once a read
// meets it or the store is opened anew, not before. A root block is
// verified on every Missing call.
//
// One Store must own a prefix: two Stores on the same prefix (in one process
// or two) would corrupt each other's reference counts.
package cas
