package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// The event_id index (format version 3) keeps one badger key per bucket,
// not per event. A bucket holds consecutive events of one origin, in
// increasing seq, whose ids share their first 6 bytes (a UUIDv7's epoch
// milliseconds):
//
//	key:   i | id[0:6] | origin number (4 BE) | first seq (8 BE)
//	value: entry*, each entry being
//	       [seq delta (uvarint >= 1), except in the first entry] | id[6:16]
//
// The first entry's seq is the key's; each later one is the previous seq
// plus its delta. Keys sort by milliseconds first, so the time-ordered view
// and latestID walk buckets in time order; all buckets of one millisecond
// together hold every event whose id starts with it. Two events may share
// an id (a device can copy another's id into its own event): each then has
// its own entry, and readers choose (GetByID: the smaller dot).
//
// Under load hundreds of an origin's events share one key (up to
// bucketFill); at one event per second each event has its own. A
// bucket never spans two badger transactions: the indexer writes its open
// bucket when it commits or splits a transaction, and the events that
// follow in the same millisecond start another bucket, keyed by their own
// first seq. Bucket keys never collide: an event is indexed once (replay
// skips held dots), and the buckets of one origin cover disjoint seqs.

// idBucketKeyLen is the length of a bucket key.
const idBucketKeyLen = 1 + 6 + 4 + 8

// maxBucketEntries caps the events of one bucket a reader accepts,
// bounding its value to about 80 KiB.
const maxBucketEntries = 4096

// bucketFill is how many events the indexer puts in one bucket: their
// value (about 11 bytes an event) stays under badger's value threshold
// (4 KiB, store.go), in the LSM tree with its key. Larger values went to
// badger's value log, which badger reads through at every open: with
// 4096-event buckets a store of 10 M events had 175 MB resident after
// opening.
const bucketFill = 320

// maxBucketValue is the longest valid bucket value.
const maxBucketValue = 10 + (maxBucketEntries-1)*(binary.MaxVarintLen64+10)

// idMS is the first 6 bytes of an event id: its epoch milliseconds.
type idMS [6]byte

func msOf(id uuid.UUID) idMS { return idMS(id[:6]) }

// idBucketKey returns the key of the bucket of origin number num whose
// first event, at seq first, has an id starting with ms.
func idBucketKey(ms idMS, num uint32, first uint64) []byte {
	k := make([]byte, 0, idBucketKeyLen)
	k = append(k, prefixID)
	k = append(k, ms[:]...)
	k = binary.BigEndian.AppendUint32(k, num)
	return binary.BigEndian.AppendUint64(k, first)
}

// idMSPrefix is the prefix of every bucket key of millisecond ms; with
// num, of every bucket of that origin number in it.
func idMSPrefix(ms idMS) []byte { return append([]byte{prefixID}, ms[:]...) }

func idOriginPrefix(ms idMS, num uint32) []byte {
	return binary.BigEndian.AppendUint32(idMSPrefix(ms), num)
}

// idBucketHead is a decoded bucket key.
type idBucketHead struct {
	ms    idMS
	num   uint32
	first uint64
}

func decodeIDBucketKey(k []byte) (idBucketHead, error) {
	if len(k) != idBucketKeyLen || k[0] != prefixID {
		return idBucketHead{}, errCorruptIDKey(k)
	}
	return idBucketHead{
		ms: idMS(k[1:7]), num: binary.BigEndian.Uint32(k[7:]), first: binary.BigEndian.Uint64(k[11:]),
	}, nil
}

// idEntry is one event of a bucket.
type idEntry struct {
	id  uuid.UUID
	seq uint64
}

// idBucket builds a bucket value.
type idBucket struct {
	head idBucketHead
	last uint64 // seq of the last entry
	n    int    // entries
	val  []byte
}

// add appends an entry; it must be of the bucket's millisecond, with a
// seq above the last one's, and the bucket must not be full.
func (b *idBucket) add(id uuid.UUID, seq uint64) {
	if b.n > 0 {
		b.val = binary.AppendUvarint(b.val, seq-b.last)
	}
	b.val = append(b.val, id[6:]...)
	b.last = seq
	b.n++
}

// fits reports whether an event of origin number num at seq with id can
// join the bucket.
func (b *idBucket) fits(num uint32, seq uint64, id uuid.UUID) bool {
	return b.n > 0 && b.n < bucketFill && num == b.head.num && seq > b.last && msOf(id) == b.head.ms
}

// reset starts a bucket with the event of origin number num at seq.
func (b *idBucket) reset(num uint32, seq uint64, id uuid.UUID) {
	b.head = idBucketHead{ms: msOf(id), num: num, first: seq}
	b.n, b.val = 0, b.val[:0]
	b.add(id, seq)
}

func (b *idBucket) key() []byte { return idBucketKey(b.head.ms, b.head.num, b.head.first) }

// encodeIDBucket returns the value of a bucket of entries (non-empty, all
// of one millisecond, seqs increasing), keyed by the first one's seq.
func encodeIDBucket(entries []idEntry) []byte {
	var b idBucket
	for i, e := range entries {
		if i == 0 {
			b.reset(0, e.seq, e.id)
		} else {
			b.add(e.id, e.seq)
		}
	}
	return b.val
}

var errCorruptBucket = errors.New("store: corrupt id index bucket")

// decodeIDBucket decodes the value v of the bucket with key head into
// entries (appended to out). It rejects values over maxBucketValue or
// maxBucketEntries, truncated entries, non-canonical or zero deltas and
// seqs past 2^64-1.
func decodeIDBucket(head idBucketHead, v []byte, out []idEntry) ([]idEntry, error) {
	if len(v) > maxBucketValue {
		return out, fmt.Errorf("%w: %d bytes, at most %d", errCorruptBucket, len(v), maxBucketValue)
	}
	if len(v) < 10 {
		return out, fmt.Errorf("%w: %d bytes, under one entry", errCorruptBucket, len(v))
	}
	seq := head.first
	for i := 0; len(v) > 0; i++ {
		if i == maxBucketEntries {
			return out, fmt.Errorf("%w: over %d entries", errCorruptBucket, maxBucketEntries)
		}
		if i > 0 {
			d, n := binary.Uvarint(v)
			switch {
			case n <= 0:
				return out, fmt.Errorf("%w: entry %d: bad seq delta", errCorruptBucket, i)
			case n != uvarintLen(d):
				return out, fmt.Errorf("%w: entry %d: non-canonical seq delta", errCorruptBucket, i)
			case d == 0:
				return out, fmt.Errorf("%w: entry %d: zero seq delta", errCorruptBucket, i)
			case seq+d < seq:
				return out, fmt.Errorf("%w: entry %d: seq overflows", errCorruptBucket, i)
			}
			seq += d
			v = v[n:]
		}
		if len(v) < 10 {
			return out, fmt.Errorf("%w: entry %d truncated to %d bytes", errCorruptBucket, i, len(v))
		}
		e := idEntry{seq: seq}
		copy(e.id[:6], head.ms[:])
		copy(e.id[6:], v[:10])
		out = append(out, e)
		v = v[10:]
	}
	return out, nil
}
