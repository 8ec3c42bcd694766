package sink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/rumor-sync/rumor/event"
)

// RedactionsPrefix is where the redaction manifest lives in the bucket.
const RedactionsPrefix = "redactions/"

// Manifest is one file of the redaction manifest: the redactions numbered
// First to Last in the sink's log Log (see ManifestName).
type Manifest struct {
	Name  string `json:"name"`
	Log   string `json:"log"`
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	Bytes int64  `json:"bytes"`
}

// ManifestName returns the key of the manifest file holding the
// redactions numbered first to last of log:
//
//	redactions/log=5f0c2a9e1b7d4c33/1-12.parquet
//
// The numbers are the order in which the redactions took effect on the
// sink (store.Redactions), so the name depends only on the range and a
// re-upload writes the same key. log names the sink database the numbers
// come from: a sink whose database was lost starts a new log.
func ManifestName(log string, first, last uint64) string {
	return RedactionsPrefix + "log=" + log + "/" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10) + ".parquet"
}

// ParseManifestName parses a key written by ManifestName, strictly.
func ParseManifestName(key string) (Manifest, error) {
	rest, ok := strings.CutPrefix(key, RedactionsPrefix+"log=")
	log, file, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !validLogID(log) {
		return Manifest{}, fmt.Errorf("%w: %q: want %slog=ID/FIRST-LAST.parquet", ErrBadName, key, RedactionsPrefix)
	}
	rng, ok := strings.CutSuffix(file, ".parquet")
	a, b, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return Manifest{}, fmt.Errorf("%w: %q: want FIRST-LAST.parquet", ErrBadName, key)
	}
	m := Manifest{Name: key, Log: log}
	var err error
	if m.First, err = parseSeq(a); err == nil {
		m.Last, err = parseSeq(b)
	}
	if err != nil || m.First > m.Last {
		return Manifest{}, fmt.Errorf("%w: %q: bad range %q", ErrBadName, key, rng)
	}
	return m, nil
}

// validLogID accepts 16 lowercase hex digits.
func validLogID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// RedactionRow is one row of the redaction manifest: a redaction that
// took effect on the sink.
//
//	device_id    STRING     the redacted event's origin device
//	seq          INT64      its seq
//	event_id     STRING     its event id
//	type         STRING     its type
//	ts           TIMESTAMP  its event time, milliseconds, UTC
//	redacted_by  STRING     the device that redacted it
//	redacted_at  TIMESTAMP  when (the redactor's clock), milliseconds, UTC
//	file         STRING     the archive file that holds the event, rewritten redacted; NULL if the event was
//	                        not archived yet when the redaction was recorded (it is archived redacted)
type RedactionRow struct {
	DeviceID   string    `parquet:"device_id,dict"`
	Seq        int64     `parquet:"seq"`
	EventID    string    `parquet:"event_id"`
	Type       string    `parquet:"type,dict"`
	TS         time.Time `parquet:"ts,timestamp(millisecond:utc)"`
	RedactedBy string    `parquet:"redacted_by,dict"`
	RedactedAt time.Time `parquet:"redacted_at,timestamp(millisecond:utc)"`
	File       string    `parquet:"file,optional"`
}

// RedactionRowOf returns the manifest row of redaction r, whose target is
// in the archive file named file ("" if none).
func RedactionRowOf(r *event.Redaction, file string) RedactionRow {
	return RedactionRow{
		DeviceID: r.Device, Seq: int64(r.Seq), EventID: r.ID.String(), Type: r.Type,
		TS: time.UnixMilli(r.TS).UTC(), RedactedBy: r.Redactor, RedactedAt: time.UnixMilli(r.At).UTC(), File: file,
	}
}

// checkFrame checks a Parquet file's frame: the magic at both ends and a
// footer length within the file (parquet-go allocates whatever length a
// damaged footer claims, up to 4 GiB).
func checkFrame(data []byte) error {
	n := len(data)
	if n < 12 || string(data[:4]) != "PAR1" || string(data[n-4:]) != "PAR1" {
		return errors.New("sink: decode parquet: not a Parquet file")
	}
	if footer := binary.LittleEndian.Uint32(data[n-8:]); int64(footer) > int64(n-12) {
		return fmt.Errorf("sink: decode parquet: footer of %d bytes in a file of %d", footer, n)
	}
	return nil
}

// maxDecodeRows bounds the rows DecodeParquet accepts (a file's footer
// says how many it holds; a damaged one must not make it allocate
// without bound).
const maxDecodeRows = MaxRows

// DecodeParquet reads every row of a Parquet file written by EncodeParquet
// (or a manifest file). Damaged or foreign bytes give an error (parquet-go
// panics on some: they are recovered).
func DecodeParquet[T any](data []byte) (rows []T, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("sink: decode parquet: damaged file: %v", p)
		}
	}()
	if err := checkFrame(data); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("sink: decode parquet: %w", err)
	}
	if n := f.NumRows(); n < 0 || n > maxDecodeRows {
		return nil, fmt.Errorf("sink: decode parquet: %d rows", n)
	}
	rows, err = parquet.Read[T](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("sink: decode parquet: %w", err)
	}
	return rows, nil
}
