package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/rumor-sync/rumor/cas"
)

// postBlob streams the request body into the blob store.
func (s *Server) postBlob(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.cfg.MaxBlob {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("blob exceeds %d bytes", s.cfg.MaxBlob))
		return
	}
	c, size, err := s.cfg.Blobs.Put(r.Context(), r.Body, s.cfg.MaxBlob)
	if errors.Is(err, cas.ErrTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("blob exceeds %d bytes", s.cfg.MaxBlob))
		return
	}
	if err != nil {
		s.cfg.Logger.Error("blob put failed", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"cid": c.String(), "size": size})
}

// getBlob streams a blob, verifying it as it goes.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request) {
	c, err := cas.ParseCID(r.PathValue("cid"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc, size, err := s.cfg.Blobs.Open(r.Context(), c)
	if errors.Is(err, cas.ErrNotFound) && s.cfg.Fetch != nil {
		if ferr := s.cfg.Fetch(r.Context(), c); ferr == nil {
			rc, size, err = s.cfg.Blobs.Open(r.Context(), c)
		}
	}
	if errors.Is(err, cas.ErrNotFound) {
		writeError(w, http.StatusNotFound, "blob "+c.String()+" not found")
		return
	}
	if err != nil {
		s.cfg.Logger.Error("blob open failed", "cid", c, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("ETag", `"`+c.String()+`"`)
	if _, err := io.Copy(w, rc); err != nil {
		// Headers are gone; cutting the stream short tells the client.
		s.cfg.Logger.Error("blob read failed mid-stream", "cid", c, "err", err)
		panic(http.ErrAbortHandler)
	}
}
