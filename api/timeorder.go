package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// NextCursorHeader carries, on a page of the time-ordered view, the cursor
// of its last event: pass it back as cursor= for the next page.
const NextCursorHeader = "Rumor-Next-Cursor"

// listByTime streams one page of the time-ordered view of all devices'
// events as NDJSON: GET /v1/events?order=time&since=&cursor=&limit=
// (device and type filter it too).
func (s *Server) listByTime(w http.ResponseWriter, r *http.Request) {
	q, err := parseTimeQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	wrote := false
	err = s.cfg.Events.ScanTime(q, func(page []store.TimePos) error {
		w.Header().Set("Content-Type", "application/x-ndjson")
		if len(page) > 0 {
			w.Header().Set(NextCursorHeader, encodeCursor(page[len(page)-1]))
		}
		return nil
	}, func(e *event.Event) error {
		wrote = true
		return enc.Encode(e.ToJSON())
	})
	if err != nil && !wrote {
		w.Header().Del(NextCursorHeader)
		s.storeError(w, r, err)
		return
	}
	if err != nil {
		s.cfg.Logger.Warn("time-ordered listing cut short", "err", err)
	}
	_ = bw.Flush()
}

// parseTimeQuery reads the parameters of the time-ordered view.
func parseTimeQuery(v url.Values) (store.TimeQuery, error) {
	base, err := parseListParams(v)
	if err != nil {
		return store.TimeQuery{}, err
	}
	if v.Has("after") {
		return store.TimeQuery{}, errors.New("parameter after: counts seqs within one device; with order=time use since or cursor")
	}
	q := store.TimeQuery{Device: base.Device, Type: base.Type, Limit: base.Limit}
	if sv := v.Get("since"); sv != "" {
		if q.Since, err = event.ParseHLC(sv); err != nil {
			return q, fmt.Errorf("parameter since: %q is not an HLC (<ms>.<counter>), epoch milliseconds or an RFC 3339 time", sv)
		}
	}
	if v.Has("cursor") {
		p, err := decodeCursor(v.Get("cursor"))
		if err != nil {
			return q, err
		}
		q.After = &p
	}
	return q, nil
}
