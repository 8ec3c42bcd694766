package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/event"
)

func testID(ms int64, counter uint16, r byte) uuid.UUID {
	return event.NewID(ms, counter, [8]byte{r, r, r, r, r, r, r, r})
}

func TestIDBucketRoundTrip(t *testing.T) {
	const ms = 1_700_000_000_000
	cases := []struct {
		name    string
		entries []idEntry
	}{
		{"one", []idEntry{{testID(ms, 0, 1), 1}}},
		{"consecutive", []idEntry{{testID(ms, 0, 1), 7}, {testID(ms, 1, 2), 8}, {testID(ms, 2, 3), 9}}},
		{"gaps", []idEntry{{testID(ms, 9, 1), 1}, {testID(ms, 3, 2), 200}, {testID(ms, 3, 2), 1 << 40}}},
		{"top seq", []idEntry{{testID(ms, 0, 1), 1<<64 - 2}, {testID(ms, 1, 1), 1<<64 - 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := idBucketHead{ms: msOf(c.entries[0].id), num: 3, first: c.entries[0].seq}
			v := encodeIDBucket(c.entries)
			if want := 10*len(c.entries) + deltaBytes(c.entries); len(v) != want {
				t.Fatalf("value of %d bytes, want %d", len(v), want)
			}
			got, err := decodeIDBucket(head, v, nil)
			if err != nil || !slices.Equal(got, c.entries) {
				t.Fatalf("decode: %v %v, want %v", got, err, c.entries)
			}
			k := idBucketKey(head.ms, head.num, head.first)
			if h, err := decodeIDBucketKey(k); err != nil || h != head {
				t.Fatalf("key %x decodes to %+v %v", k, h, err)
			}
		})
	}
}

func deltaBytes(es []idEntry) int {
	n := 0
	for i := 1; i < len(es); i++ {
		n += uvarintLen(es[i].seq - es[i-1].seq)
	}
	return n
}

// TestIDBucketKeysSortByTime checks that bucket keys sort by millisecond
// first, then origin number, then first seq.
func TestIDBucketKeysSortByTime(t *testing.T) {
	keys := [][]byte{
		idBucketKey(msOf(testID(5, 0, 0)), 9, 100),
		idBucketKey(msOf(testID(6, 0, 0)), 0, 1),
		idBucketKey(msOf(testID(6, 0, 0)), 1, 1),
		idBucketKey(msOf(testID(6, 0, 0)), 1, 2),
		idBucketKey(msOf(testID(1<<40, 0, 0)), 0, 0),
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Fatal("bucket keys out of time order")
	}
}

func TestIDBucketDecodeRejects(t *testing.T) {
	head := idBucketHead{first: 10}
	entry := bytes.Repeat([]byte{0xab}, 10)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	full := cat(entry, bytes.Repeat(cat([]byte{1}, entry), maxBucketEntries-1))
	cases := []struct {
		name string
		head idBucketHead
		v    []byte
		want string
	}{
		{"empty", head, nil, "under one entry"},
		{"short", head, entry[:9], "under one entry"},
		{"truncated entry", head, cat(entry, []byte{1}, entry[:4]), "entry 1 truncated"},
		{"missing delta", head, cat(entry, []byte{0x80}), "bad seq delta"},
		{"zero delta", head, cat(entry, []byte{0}, entry), "zero seq delta"},
		{"non-canonical delta", head, cat(entry, []byte{0x81, 0x00}, entry), "non-canonical"},
		{"overflow", idBucketHead{first: 1<<64 - 1}, cat(entry, []byte{1}, entry), "overflows"},
		{"delta over 64 bits", head, cat(entry, bytes.Repeat([]byte{0xff}, 10), []byte{1}, entry), "bad seq delta"},
		{"too many entries", head, cat(full, []byte{1}, entry), "over 4096 entries"},
		{"too long", head, make([]byte, maxBucketValue+1), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeIDBucket(c.head, c.v, nil)
			if !errors.Is(err, errCorruptBucket) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
	if got, err := decodeIDBucket(head, full, nil); err != nil || len(got) != maxBucketEntries {
		t.Fatalf("full bucket: %d entries, %v", len(got), err)
	}
}

func TestIDBucketKeyRejects(t *testing.T) {
	good := idBucketKey(msOf(testID(1, 0, 0)), 1, 1)
	for _, k := range [][]byte{nil, good[:18], append(slices.Clone(good), 0), append([]byte{'e'}, good[1:]...)} {
		if _, err := decodeIDBucketKey(k); err == nil {
			t.Fatalf("key %x accepted", k)
		}
	}
}

// TestIDBucketBuilder checks fits: same origin and millisecond, rising
// seq, not full.
func TestIDBucketBuilder(t *testing.T) {
	var b idBucket
	if b.fits(1, 1, testID(5, 0, 0)) {
		t.Fatal("an empty bucket takes events")
	}
	b.reset(1, 10, testID(5, 0, 0))
	for _, c := range []struct {
		num  uint32
		seq  uint64
		id   uuid.UUID
		fits bool
	}{
		{1, 11, testID(5, 1, 0), true},
		{2, 11, testID(5, 1, 0), false},
		{1, 10, testID(5, 1, 0), false},
		{1, 11, testID(6, 1, 0), false},
	} {
		if b.fits(c.num, c.seq, c.id) != c.fits {
			t.Fatalf("fits(%d, %d, %s) = %v", c.num, c.seq, c.id, !c.fits)
		}
	}
	for seq := uint64(11); b.n < maxBucketEntries; seq++ {
		b.add(testID(5, 0, 0), seq)
	}
	if b.fits(1, 1<<20, testID(5, 0, 0)) {
		t.Fatal("a full bucket takes events")
	}
}

// FuzzIDBucket decodes arbitrary bucket values: a value either fails
// with errCorruptBucket or decodes to entries that encode back to it.
func FuzzIDBucket(f *testing.F) {
	f.Add(uint64(1), encodeIDBucket([]idEntry{{testID(1, 0, 1), 1}, {testID(1, 1, 2), 300}}))
	f.Add(uint64(1<<64-1), bytes.Repeat([]byte{0}, 11))
	f.Add(uint64(0), []byte{})
	f.Fuzz(func(t *testing.T, first uint64, v []byte) {
		head := idBucketHead{ms: idMS{1, 2, 3, 4, 5, 6}, first: first}
		got, err := decodeIDBucket(head, v, nil)
		if err != nil {
			if !errors.Is(err, errCorruptBucket) {
				t.Fatalf("error %v does not wrap errCorruptBucket", err)
			}
			return
		}
		if len(got) == 0 || got[0].seq != first {
			t.Fatalf("decoded %v from first %d", got, first)
		}
		for i, e := range got {
			if msOf(e.id) != head.ms || i > 0 && e.seq <= got[i-1].seq {
				t.Fatalf("entry %d: %v", i, e)
			}
		}
		if back := encodeIDBucket(got); !bytes.Equal(back, v) {
			t.Fatalf("re-encodes to %x, was %x", back, v)
		}
	})
}
