package sink

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key prefixes in the bucket.
const (
	EventsPrefix = "events/" // Parquet files, see FileName
	BlobsPrefix  = "blobs/"  // blobs by CID: blobs/<cid>
)

// maxDeviceLen bounds a device id in a file name (event.MaxDeviceLen).
const maxDeviceLen = 128

// ErrBadName is wrapped by ParseFileName's errors.
var ErrBadName = errors.New("sink: not an archive file name")

// File is one archived Parquet file: the events of Device with seqs First
// to Last (both included, contiguous), whose partition date is Date.
type File struct {
	Name   string `json:"name"`   // the key in the bucket, FileName(Date, Device, First, Last)
	Device string `json:"device"` // origin device id
	Date   string `json:"date"`   // partition date, YYYY-MM-DD (UTC)
	First  uint64 `json:"first"`  // first seq
	Last   uint64 `json:"last"`   // last seq
	Bytes  int64  `json:"bytes"`  // size of the file
}

// Rows returns the number of events (rows) the file holds.
func (f File) Rows() uint64 { return f.Last - f.First + 1 }

// FileName returns the key of the file holding device's events first to
// last, partitioned under date (YYYY-MM-DD):
//
//	events/date=2025-03-01/device=12D3KooW…/1-100000.parquet
//
// The name depends only on the range, so uploading a range again writes
// the same key.
func FileName(date, device string, first, last uint64) string {
	return EventsPrefix + "date=" + date + "/device=" + device + "/" +
		strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10) + ".parquet"
}

// ParseFileName parses a key written by FileName, strictly: exactly the
// names FileName produces for a valid date, a device id of 1 to 128
// base58 characters and 1 <= first <= last are accepted (decimal seqs
// without leading zeros), so that FileName(ParseFileName(k)) == k.
func ParseFileName(key string) (File, error) {
	rest, ok := strings.CutPrefix(key, EventsPrefix+"date=")
	if !ok {
		return File{}, fmt.Errorf("%w: %q does not start with %sdate=", ErrBadName, key, EventsPrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return File{}, fmt.Errorf("%w: %q: want events/date=D/device=ID/FIRST-LAST.parquet", ErrBadName, key)
	}
	f := File{Name: key, Date: parts[0]}
	if err := checkDate(f.Date); err != nil {
		return File{}, fmt.Errorf("%w: %q: %v", ErrBadName, key, err)
	}
	dev, ok := strings.CutPrefix(parts[1], "device=")
	if !ok || !ValidDevice(dev) {
		return File{}, fmt.Errorf("%w: %q: bad device part %q", ErrBadName, key, parts[1])
	}
	f.Device = dev
	rng, ok := strings.CutSuffix(parts[2], ".parquet")
	a, b, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return File{}, fmt.Errorf("%w: %q: want FIRST-LAST.parquet", ErrBadName, key)
	}
	var err error
	if f.First, err = parseSeq(a); err == nil {
		f.Last, err = parseSeq(b)
	}
	if err != nil || f.First > f.Last {
		return File{}, fmt.Errorf("%w: %q: bad seq range %q", ErrBadName, key, rng)
	}
	return f, nil
}

// checkDate accepts exactly the YYYY-MM-DD form of a real date.
func checkDate(d string) error {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Format(time.DateOnly) != d {
		return fmt.Errorf("bad date %q", d)
	}
	return nil
}

// parseSeq parses a decimal seq from 1, without sign or leading zeros.
func parseSeq(s string) (uint64, error) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, fmt.Errorf("bad seq %q", s)
	}
	return strconv.ParseUint(s, 10, 64)
}

// ValidDevice reports whether id can name a device in the archive: 1 to
// 128 characters of the base58 alphabet, as textual peer ids are. Events
// of other origins are never archived (no store accepts them).
func ValidDevice(id string) bool {
	if id == "" || len(id) > maxDeviceLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '1' && c <= '9', c >= 'A' && c <= 'Z' && c != 'I' && c != 'O', c >= 'a' && c <= 'z' && c != 'l':
		default:
			return false
		}
	}
	return true
}
