package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// EventStore is what the API needs of the event store. *store.Store
// implements it; every method is safe for concurrent use.
type EventStore interface {
	// Ingest durably stores inputs as new local events, all or nothing.
	Ingest(ctx context.Context, inputs []event.Input) ([]store.Ack, error)
	// GetByID returns one event or an error wrapping store.ErrNotFound.
	GetByID(id uuid.UUID) (*event.Event, error)
	// Scan calls fn for each matching event in (device, seq) order.
	Scan(q store.Query, fn func(*event.Event) error) error
	// ScanTime passes one page of the time-ordered view (HLC, device,
	// seq): first its positions to page, then each event to fn.
	ScanTime(q store.TimeQuery, page func([]store.TimePos) error, fn func(*event.Event) error) error
	// HLC returns the node's hybrid logical clock reading.
	HLC() event.HLC
	// Summary returns counts, version vector and digest without scanning.
	Summary() store.Summary
	// Aggregates returns the aggregates of one window kind in [from, to).
	Aggregates(typ string, w crdt.Window, from, to int64) ([]store.AggRow, error)
}

// BlobStore is what the API needs of the blob store. *cas.Store implements it.
type BlobStore interface {
	// Put streams r into the store, failing past limit bytes.
	Put(ctx context.Context, r io.Reader, limit int64) (cid.Cid, int64, error)
	// Open streams a stored blob, verifying it as it is read.
	Open(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error)
}

// Peer is one entry of the status's peer list.
type Peer struct {
	ID        string   `json:"id"`
	Addrs     []string `json:"addrs"`
	Connected bool     `json:"connected"`
	LastSeen  string   `json:"last_seen,omitempty"`
}

// Member is one live member of the mesh.
type Member struct {
	ID    string   `json:"id"`
	Role  string   `json:"role"`
	Addrs []string `json:"addrs"`
}

// Info is the node identity and network state the status shows.
type Info struct {
	DeviceID string
	Role     string
	Mesh     string
	Addrs    []string
	Peers    []Peer
	Members  []Member
}

// Config configures a Server.
type Config struct {
	Events  EventStore   // required
	Blobs   BlobStore    // required
	Info    func() Info  // required: the node's identity and network state
	MaxBody int64        // largest request body in bytes, blobs excepted
	MaxBlob int64        // largest blob in bytes
	Logger  *slog.Logger // default slog.Default()
	// Health, if set, answers GET /v1/health (completeness and lag).
	Health func() any
	// Fetch, if set, makes a blob that is not held locally whole by
	// fetching it from peers; GET /v1/blobs/{cid} calls it on a miss.
	Fetch func(ctx context.Context, c cid.Cid) error
	// Trace, if set, answers GET /v1/trace: a TraceList, or an EventTrace
	// when q.EventID is set. Errors wrapping ErrInvalidQuery answer 400,
	// ErrNotTraced or store.ErrNotFound 404.
	Trace func(ctx context.Context, q TraceQuery) (any, error)
	// CheckPayload, if set, must accept the payload of every event
	// ingested (type, schema version, payload): POST /v1/events answers
	// 400 naming the first failing event's index and, when the error has
	// a JSONPointer() string method, the failing field.
	CheckPayload func(typ string, version uint32, payload []byte) error
	// Ready, if set, answers GET /readyz: nil when the node can do its
	// work, else why not (503). Unset, a serving node is ready.
	Ready func() error
	// Switches, if set, serves the live sync settings: GET and PUT
	// /v1/config, POST /v1/config/reload, and the status's config object.
	Switches Switches
	// Redactor, if set, answers DELETE /v1/events/{id} (see redact.go).
	Redactor Redactor
	// Retention, if set, adds the archive and retention state to
	// GET /v1/status.
	Retention func() Retention
	// Archive, if set (on a sink), answers GET /v1/archive; unset, the
	// endpoint answers 404.
	Archive func(q ArchiveQuery) ArchiveList
}

// Server serves the API.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Events == nil || cfg.Blobs == nil || cfg.Info == nil {
		return nil, errors.New("api: Events, Blobs and Info are required")
	}
	if cfg.MaxBody <= 0 || cfg.MaxBlob <= 0 {
		return nil, errors.New("api: MaxBody and MaxBlob must be positive")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /v1/events", s.postEvents)
	s.mux.HandleFunc("GET /v1/events", s.listEvents)
	s.mux.HandleFunc("GET /v1/events/{id}", s.getEvent)
	s.mux.HandleFunc("DELETE /v1/events/{id}", s.deleteEvent)
	s.mux.HandleFunc("GET /v1/status", s.status)
	s.mux.HandleFunc("GET /v1/aggregates", s.aggregates)
	s.mux.HandleFunc("POST /v1/blobs", s.postBlob)
	s.mux.HandleFunc("GET /v1/blobs/{cid}", s.getBlob)
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.HandleFunc("GET /v1/trace", s.trace)
	s.mux.HandleFunc("GET /v1/archive", s.archive)
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.configRoutes()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("/", s.notFound)
}

// notFound answers 405 when the path exists for another method, else 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pattern := s.mux.Handler(r2); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

// Handle registers an extra handler (the dashboard, metrics) on the mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}
