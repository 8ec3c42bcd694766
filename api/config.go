package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
)

// Switches is the node's live sync settings: GET and PUT /v1/config,
// POST /v1/config/reload, and the config object of GET /v1/status. The
// node implements it; every method is safe for concurrent use.
type Switches interface {
	// Current returns the settings with where each came from, ready for
	// JSON encoding.
	Current() any
	// Update applies a JSON change (an object of settings) all or
	// nothing and returns the new settings. A change that is malformed or
	// invalid is a *ConfigError and changes nothing.
	Update(body []byte) (any, error)
	// Reload re-reads the node's configuration (its config file) as on
	// SIGHUP and returns the report. A file that is unreadable or invalid
	// is a *ConfigError and changes nothing; ErrNoReload means the node
	// has no configuration to re-read.
	Reload() (any, error)
}

// ConfigError is a rejected change of the settings.
type ConfigError struct {
	Field string // the setting to blame, "" when the change as a whole is bad
	Err   error
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// ErrNoReload is returned by Switches.Reload when there is nothing to
// re-read.
var ErrNoReload = errors.New("this node has no configuration to reload")

// configErrorBody is the body of a rejected change.
type configErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func (s *Server) configRoutes() {
	s.mux.HandleFunc("GET /v1/config", s.getConfig)
	s.mux.HandleFunc("PUT /v1/config", s.putConfig)
	s.mux.HandleFunc("POST /v1/config/reload", s.reloadConfig)
}

func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Switches == nil {
		writeError(w, http.StatusNotFound, "runtime settings are not available on this node")
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Switches.Current())
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Switches == nil {
		writeError(w, http.StatusNotFound, "runtime settings are not available on this node")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "content type "+ct+": send the settings as application/json")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "the body is over the limit")
			return
		}
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	out, err := s.cfg.Switches.Update(body)
	if err != nil {
		s.configError(w, r, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) reloadConfig(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Switches == nil {
		writeError(w, http.StatusNotFound, "runtime settings are not available on this node")
		return
	}
	out, err := s.cfg.Switches.Reload()
	switch {
	case errors.Is(err, ErrNoReload):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		s.configError(w, r, http.StatusUnprocessableEntity, err)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// configError answers a rejected change with code, naming the setting.
func (s *Server) configError(w http.ResponseWriter, r *http.Request, code int, err error) {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		s.cfg.Logger.Error("config change failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, code, configErrorBody{Error: ce.Error(), Field: ce.Field})
}
