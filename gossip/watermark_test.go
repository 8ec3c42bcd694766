package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

func TestWatermarkRoundTrip(t *testing.T) {
	for _, wm := range []map[string]uint64{
		{"a": 1},
		{"12D3KooWa": 1 << 40, "12D3KooWb": 7, "12D3KooWc": 300},
	} {
		pages := encodeWatermarks(wm)
		if len(pages) != 1 {
			t.Fatalf("%d pages", len(pages))
		}
		got, err := decodeWatermarks(pages[0])
		if err != nil || !maps.Equal(got, wm) {
			t.Fatalf("round trip: %v %v", got, err)
		}
	}
	if pages := encodeWatermarks(map[string]uint64{"zero": 0}); len(pages) != 0 {
		t.Fatal("an empty watermark was encoded")
	}
}

// A fleet's watermark larger than one message goes in pages that are each
// valid and together hold every entry.
func TestWatermarkPages(t *testing.T) {
	wm := map[string]uint64{}
	for i := 0; i < 20_000; i++ {
		wm[fmt.Sprintf("12D3KooW%044d", i)] = uint64(i + 1)
	}
	pages := encodeWatermarks(wm)
	if len(pages) < 2 {
		t.Fatalf("%d pages for %d entries", len(pages), len(wm))
	}
	all := map[string]uint64{}
	for _, p := range pages {
		if len(p) > MaxWatermarkBytes {
			t.Fatalf("page of %d bytes", len(p))
		}
		got, err := decodeWatermarks(p)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(all, got)
	}
	if !maps.Equal(all, wm) {
		t.Fatal("pages do not add up to the watermark")
	}
}

func TestWatermarkRejects(t *testing.T) {
	entry := func(o string, seq uint64) []byte {
		b := binary.AppendUvarint(nil, uint64(len(o)))
		return binary.AppendUvarint(append(b, o...), seq)
	}
	msg := func(n uint64, entries ...[]byte) []byte {
		b := binary.AppendUvarint([]byte{watermarkVersion}, n)
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"version":         {2, 0},
		"unsorted":        msg(2, entry("b", 1), entry("a", 1)),
		"duplicate":       msg(2, entry("a", 1), entry("a", 2)),
		"seq 0":           msg(1, entry("a", 0)),
		"empty origin":    msg(1, entry("", 1)),
		"long origin":     msg(1, entry(strings.Repeat("o", 129), 1)),
		"count too high":  msg(3, entry("a", 1)),
		"trailing":        append(msg(1, entry("a", 1)), 0),
		"truncated":       msg(1, entry("abc", 1))[:4],
		"non-minimal seq": msg(1, append(entry("a", 1)[:2], 0x81, 0x00)),
		"huge":            append(msg(0), make([]byte, MaxWatermarkBytes)...),
	} {
		if _, err := decodeWatermarks(b); !errors.Is(err, ErrBadWatermark) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestWatermarkTableOnlyRises(t *testing.T) {
	tb := newWatermarkTable()
	if r := tb.learn("s1", map[string]uint64{"a": 5, "b": 3}); len(r) != 2 {
		t.Fatalf("raised %v", r)
	}
	if r := tb.learn("s1", map[string]uint64{"a": 4, "b": 6}); !maps.Equal(r, map[string]uint64{"b": 6}) {
		t.Fatalf("raised %v", r)
	}
	tb.learn("s2", map[string]uint64{"a": 9})
	if got := tb.archived(); !maps.Equal(got, map[string]uint64{"a": 9, "b": 6}) {
		t.Fatalf("archived %v", got)
	}
	if got := tb.sinks(); got["s1"]["a"] != 5 || got["s2"]["a"] != 9 {
		t.Fatalf("sinks %v", got)
	}
}

// FuzzDecodeWatermarks: the decoder never panics, and what it accepts is
// the canonical encoding of what it returns.
func FuzzDecodeWatermarks(f *testing.F) {
	f.Add(encodeWatermarks(map[string]uint64{"a": 1, "b": 1 << 50})[0])
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		wm, err := decodeWatermarks(data)
		if err != nil {
			return
		}
		pages := encodeWatermarks(wm)
		if len(wm) == 0 {
			if len(pages) != 0 {
				t.Fatal("pages for an empty watermark")
			}
			return
		}
		if len(pages) != 1 || string(pages[0]) != string(data) {
			t.Fatal("accepted input is not canonical")
		}
	})
}
