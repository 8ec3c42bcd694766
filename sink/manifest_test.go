package sink

import (
	"errors"
	"testing"
	"time"
)

func TestManifestNames(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{ManifestName("0123456789abcdef", 1, 12), true},
		{"redactions/log=0123456789abcdef/7-7.parquet", true},
		{"redactions/log=0123456789ABCDEF/1-2.parquet", false}, // uppercase
		{"redactions/log=0123456789abcde/1-2.parquet", false},  // 15 digits
		{"redactions/log=0123456789abcdef/2-1.parquet", false},
		{"redactions/log=0123456789abcdef/0-1.parquet", false},
		{"redactions/log=0123456789abcdef/01-2.parquet", false},
		{"redactions/log=0123456789abcdef/1-2.parquet.1f.tmp", false},
		{"redactions/log=0123456789abcdef/x/1-2.parquet", false},
		{"redactions/0123456789abcdef/1-2.parquet", false},
		{"events/log=0123456789abcdef/1-2.parquet", false},
	} {
		m, err := ParseManifestName(tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("ParseManifestName(%q): %+v, %v", tc.key, m, err)
		}
		if err == nil && ManifestName(m.Log, m.First, m.Last) != tc.key {
			t.Errorf("%q parses to %+v", tc.key, m)
		}
	}
}

func FuzzParseManifestName(f *testing.F) {
	f.Add(ManifestName("0123456789abcdef", 1, 10000))
	f.Add("redactions/log=0123456789abcdef/18446744073709551615-18446744073709551615.parquet")
	f.Fuzz(func(t *testing.T, key string) {
		got, err := ParseManifestName(key)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not wrap ErrBadName", err)
			}
			return
		}
		if again := ManifestName(got.Log, got.First, got.Last); again != key || got.Name != key {
			t.Fatalf("ParseManifestName(%q) = %+v, which names %q", key, got, again)
		}
		if got.First == 0 || got.First > got.Last || !validLogID(got.Log) {
			t.Fatalf("accepted %+v", got)
		}
	})
}

// FuzzDecodeParquet: whatever a bucket holds under an archive or manifest
// name, reading it back gives rows or an error, never a crash.
func FuzzDecodeParquet(f *testing.F) {
	rows, err := EncodeParquet([]Row{{EventID: "e", DeviceID: "d", Seq: 1, TS: time.UnixMilli(1).UTC(), Payload: "{}", Blobs: []string{"b"}}})
	if err != nil {
		f.Fatal(err)
	}
	man, err := encodeRows([]RedactionRow{{DeviceID: "d", Seq: 1, File: "x"}, {DeviceID: "d", Seq: 2}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rows)
	f.Add(man)
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeParquet[Row](data)
		_, _ = DecodeParquet[RedactionRow](data)
	})
}
