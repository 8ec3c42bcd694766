package sink

import (
	"errors"
	"testing"
)

const dev = "12D3KooWEdWH7SVJFZ15VoJsq8Cahny1TsykHeZkwKrDeGHi555E"

func TestParseFileName(t *testing.T) {
	good := FileName("2025-03-01", dev, 1, 100000)
	if good != "events/date=2025-03-01/device="+dev+"/1-100000.parquet" {
		t.Fatalf("FileName = %q", good)
	}
	f, err := ParseFileName(good)
	if err != nil || f != (File{Name: good, Device: dev, Date: "2025-03-01", First: 1, Last: 100000}) {
		t.Fatalf("ParseFileName(%q) = %+v, %v", good, f, err)
	}
	for _, bad := range []string{
		"",
		"events/",
		"blobs/bafkrei",
		"events/date=2025-03-01/device=" + dev + "/1-100000.parquet.17a9f.tmp",
		"events/date=2025-02-30/device=" + dev + "/1-2.parquet",                    // no such day
		"events/date=2025-3-01/device=" + dev + "/1-2.parquet",                     // not zero-padded
		"events/date=2025-03-01/device=" + dev + "/0-2.parquet",                    // seq 0
		"events/date=2025-03-01/device=" + dev + "/01-2.parquet",                   // leading zero
		"events/date=2025-03-01/device=" + dev + "/3-2.parquet",                    // backwards
		"events/date=2025-03-01/device=" + dev + "/-2.parquet",                     // empty first
		"events/date=2025-03-01/device=" + dev + "/1-2-3.parquet",                  // two dashes
		"events/date=2025-03-01/device=" + dev + "/1-2.csv",                        // other extension
		"events/date=2025-03-01/device=" + dev + "/1-18446744073709551616.parquet", // overflow
		"events/date=2025-03-01/device=" + dev + "/x/1-2.parquet",                  // extra level
		"events/date=2025-03-01/device=0OIl/1-2.parquet",                           // not base58
		"events/date=2025-03-01/device=/1-2.parquet",                               // empty device
		"events/date=2025-03-01/dev=" + dev + "/1-2.parquet",
		"events/date=2025-03-01/device=../1-2.parquet",
		"events/date=2025-03-01/device=" + dev + "/+1-2.parquet",
	} {
		if _, err := ParseFileName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("ParseFileName(%q) accepted (%v)", bad, err)
		}
	}
}

// FuzzParseFileName checks the parser never panics and accepts exactly
// the names FileName writes.
func FuzzParseFileName(f *testing.F) {
	f.Add(FileName("2025-03-01", dev, 1, 100000))
	f.Add(FileName("1970-01-01", "a", 18446744073709551615, 18446744073709551615))
	f.Add("events/date=2025-03-01/device=x/1-2.parquet.1f.tmp")
	f.Fuzz(func(t *testing.T, key string) {
		got, err := ParseFileName(key)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not wrap ErrBadName", err)
			}
			return
		}
		if again := FileName(got.Date, got.Device, got.First, got.Last); again != key || got.Name != key {
			t.Fatalf("ParseFileName(%q) = %+v, which names %q", key, got, again)
		}
		if got.First == 0 || got.First > got.Last || !ValidDevice(got.Device) {
			t.Fatalf("accepted %+v", got)
		}
	})
}
