package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// Limits on event listing.
const (
	DefaultListLimit = 10_000
	MaxListLimit     = 1_000_000
)

// postEvents ingests one JSON event or an NDJSON batch, all or nothing.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var inputs []event.Input
	var err error
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl":
		inputs, err = parseNDJSON(body)
	case "application/json", "":
		inputs, err = parseSingle(body)
	default:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: send application/json or application/x-ndjson", mt))
		return
	}
	if err == nil {
		err = checkReserved(inputs)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.checkPayloads(w, inputs) {
		return
	}
	acks, err := s.cfg.Events.Ingest(r.Context(), inputs)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeAcks(w, acks)
}

// readBody reads the whole body within MaxBody, answering 413 past it.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	// Sized from Content-Length where it is within bounds (net/http reads
	// exactly that many bytes), instead of growing from 512 bytes.
	var size int64
	if r.ContentLength > 0 && r.ContentLength <= s.cfg.MaxBody {
		size = r.ContentLength
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	body := buf.Bytes()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", s.cfg.MaxBody))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return nil, false
	}
	return body, true
}

func parseSingle(body []byte) ([]event.Input, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body: send one JSON event object")
	}
	if trimmed[0] == '[' {
		return nil, errors.New("body is a JSON array: send one object as application/json or many as application/x-ndjson")
	}
	in, err := event.ParseInput(trimmed)
	if err != nil {
		return nil, err
	}
	return []event.Input{in}, nil
}

func parseNDJSON(body []byte) ([]event.Input, error) {
	var inputs []event.Input
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		in, err := event.ParseInput(b)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		inputs = append(inputs, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading NDJSON: %w", err)
	}
	if len(inputs) == 0 {
		return nil, errors.New("empty body: send one JSON event per line")
	}
	return inputs, nil
}

// listEvents streams stored events as NDJSON, in (device, seq) order or,
// with order=time, in the time-ordered view (listByTime).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	switch o := r.URL.Query().Get("order"); o {
	case "time":
		s.listByTime(w, r)
		return
	case "", "device":
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter order: %q is not device or time", o))
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	wrote := false
	err = s.cfg.Events.Scan(q, func(e *event.Event) error {
		wrote = true
		return enc.Encode(e.ToJSON())
	})
	if err != nil && !wrote {
		s.storeError(w, r, err)
		return
	}
	if err != nil {
		s.cfg.Logger.Warn("event listing cut short", "err", err)
	}
	_ = bw.Flush()
}

func parseQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	q, err := parseListParams(v)
	if err != nil {
		return q, err
	}
	for _, p := range []string{"since", "cursor"} {
		if v.Has(p) {
			return q, fmt.Errorf("parameter %s: needs order=time", p)
		}
	}
	if a := v.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return q, fmt.Errorf("parameter after: %q is not a non-negative integer", a)
		}
		if q.Device == "" {
			return q, errors.New("parameter after: needs device (seqs count per device)")
		}
		q.After = n
	}
	return q, nil
}

// parseListParams reads the parameters both orders share: device, type
// and limit.
func parseListParams(v url.Values) (store.Query, error) {
	q := store.Query{Device: v.Get("device"), Type: v.Get("type"), Limit: DefaultListLimit}
	if q.Device != "" {
		if _, err := peer.Decode(q.Device); err != nil {
			return q, fmt.Errorf("parameter device: %q is not a device id", q.Device)
		}
	}
	if len(q.Type) > event.MaxTypeLen {
		return q, fmt.Errorf("parameter type: longer than %d bytes", event.MaxTypeLen)
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxListLimit {
			return q, fmt.Errorf("parameter limit: %q is not an integer from 1 to %d", l, MaxListLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// getEvent returns one event by id.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("event id %q is not a UUID", r.PathValue("id")))
		return
	}
	e, err := s.cfg.Events.GetByID(id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.ToJSON())
}
