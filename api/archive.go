package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of GET /v1/archive's limit parameter.
const (
	DefaultArchiveLimit = 1000
	MaxArchiveLimit     = 10000
)

// ArchiveQuery is a parsed GET /v1/archive query: the files of Device
// (all devices when ""), of partition date Date (all when ""), whose first
// seq is above After (needs Device), at most Limit of them.
type ArchiveQuery struct {
	Device string // a peer id in canonical form, or ""
	Date   string // YYYY-MM-DD, or ""
	After  uint64
	Limit  int // 1..MaxArchiveLimit
}

// ParseArchiveQuery parses a raw query string strictly: only device, date,
// after and limit, each at most once; an empty value counts as absent.
// Errors wrap ErrInvalidQuery.
func ParseArchiveQuery(raw string) (ArchiveQuery, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return ArchiveQuery{}, fmt.Errorf("%w: malformed query string: %v", ErrInvalidQuery, err)
	}
	q := ArchiveQuery{Limit: DefaultArchiveLimit}
	for k, vals := range v {
		if len(vals) > 1 {
			return ArchiveQuery{}, fmt.Errorf("%w: parameter %s given %d times", ErrInvalidQuery, k, len(vals))
		}
		if err := q.set(k, vals[0]); err != nil {
			return ArchiveQuery{}, err
		}
	}
	if q.After > 0 && q.Device == "" {
		return ArchiveQuery{}, fmt.Errorf("%w: parameter after needs device (seqs count per device)", ErrInvalidQuery)
	}
	return q, nil
}

func (q *ArchiveQuery) set(k, val string) error {
	if val == "" {
		return nil
	}
	switch k {
	case "device":
		id, err := peer.Decode(val)
		if err != nil {
			return fmt.Errorf("%w: parameter device: %q is not a device id", ErrInvalidQuery, val)
		}
		q.Device = id.String()
	case "date":
		t, err := time.Parse(time.DateOnly, val)
		if err != nil || t.Format(time.DateOnly) != val {
			return fmt.Errorf("%w: parameter date: %q is not a date (YYYY-MM-DD)", ErrInvalidQuery, val)
		}
		q.Date = val
	case "after":
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: parameter after: %q is not a seq", ErrInvalidQuery, val)
		}
		q.After = n
	case "limit":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > MaxArchiveLimit {
			return fmt.Errorf("%w: parameter limit: %q is not an integer from 1 to %d", ErrInvalidQuery, val, MaxArchiveLimit)
		}
		q.Limit = n
	default:
		return fmt.Errorf("%w: unknown parameter %q (use device, date, after or limit)", ErrInvalidQuery, k)
	}
	return nil
}

// Encode returns q as a query string that ParseArchiveQuery reads back as q.
func (q ArchiveQuery) Encode() string {
	v := url.Values{}
	if q.Device != "" {
		v.Set("device", q.Device)
	}
	if q.Date != "" {
		v.Set("date", q.Date)
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatUint(q.After, 10))
	}
	if q.Limit > 0 && q.Limit != DefaultArchiveLimit {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v.Encode()
}

// ArchiveFile is one Parquet file of a sink's archive: the events of
// Device with seqs First to Last.
type ArchiveFile struct {
	Name   string `json:"name"` // its key in the bucket
	Device string `json:"device"`
	Date   string `json:"date"` // partition date, YYYY-MM-DD
	First  uint64 `json:"first"`
	Last   uint64 `json:"last"`
	Rows   uint64 `json:"rows"`
	Bytes  int64  `json:"bytes"`
}

// ArchiveList is the body of GET /v1/archive.
type ArchiveList struct {
	// Listed is false until the sink has listed its bucket since it
	// started; until then Files is empty and Watermarks are the cached ones.
	Listed bool `json:"listed"`
	// Watermarks is, per device, the highest seq archived with every seq
	// before it.
	Watermarks map[string]uint64 `json:"watermarks"`
	// Files are the matching files, by device then first seq.
	Files []ArchiveFile `json:"files"`
	// More is true when more files matched than the limit; ask again
	// with device and after set to the last file's device and first seq.
	More bool `json:"more"`
}

// archive answers GET /v1/archive.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Archive == nil {
		writeError(w, http.StatusNotFound, "this node keeps no archive: GET /v1/archive is served by a sink (rumor node --role sink)")
		return
	}
	q, err := ParseArchiveQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Archive(q))
}
