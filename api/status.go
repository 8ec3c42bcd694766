package api

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/store"
)

// statusJSON is the body of GET /v1/status.
type statusJSON struct {
	DeviceID      string            `json:"device_id"`
	Role          string            `json:"role"`
	Mesh          string            `json:"mesh,omitempty"`
	Addrs         []string          `json:"addrs"`
	Peers         []Peer            `json:"peers"`
	Members       []Member          `json:"members"`
	VersionVector map[string]uint64 `json:"version_vector"`
	Events        uint64            `json:"events"`
	Digest        string            `json:"digest"`
	Config        any               `json:"config,omitempty"` // the live sync settings, as GET /v1/config
	HLC           string            `json:"hlc"`
	Retention     *Retention        `json:"retention,omitempty"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	info := s.cfg.Info()
	sum := s.cfg.Events.Summary()
	out := statusJSON{
		DeviceID: info.DeviceID, Role: info.Role, Mesh: info.Mesh, Addrs: info.Addrs, Peers: info.Peers, Members: info.Members,
		VersionVector: sum.VersionVector, Events: sum.Events, Digest: hex.EncodeToString(sum.Digest[:]),
		HLC: s.cfg.Events.HLC().String(),
	}
	if s.cfg.Switches != nil {
		out.Config = s.cfg.Switches.Current()
	}
	if s.cfg.Retention != nil {
		r := s.cfg.Retention()
		out.Retention = &r
	}
	if out.Addrs == nil {
		out.Addrs = []string{}
	}
	if out.Peers == nil {
		out.Peers = []Peer{}
	}
	if out.Members == nil {
		out.Members = []Member{}
	}
	writeJSON(w, http.StatusOK, out)
}

// aggJSON is one aggregate row of GET /v1/aggregates.
type aggJSON struct {
	Type      string          `json:"type"`
	Window    string          `json:"window"`
	Start     int64           `json:"start"`
	StartTime string          `json:"start_time"`
	Summary   crdt.AggSummary `json:"summary"`
}

func (s *Server) aggregates(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	win := crdt.Hour
	if ws := v.Get("window"); ws != "" {
		var err error
		if win, err = crdt.ParseWindow(ws); err != nil {
			writeError(w, http.StatusBadRequest, "parameter window: use 1m, 1h or 1d")
			return
		}
	}
	from, err := parseTime(v.Get("from"), math.MinInt64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parameter from: "+err.Error())
		return
	}
	to, err := parseTime(v.Get("to"), math.MaxInt64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parameter to: "+err.Error())
		return
	}
	rows, err := s.cfg.Events.Aggregates(v.Get("type"), win, from, to)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": win.String(), "aggregates": aggRows(rows)})
}

func aggRows(rows []store.AggRow) []aggJSON {
	out := make([]aggJSON, len(rows))
	for i, row := range rows {
		out[i] = aggJSON{
			Type: row.Key.Type, Window: row.Key.Window.String(), Start: row.Key.Start,
			StartTime: time.UnixMilli(row.Key.Start).UTC().Format(time.RFC3339),
			Summary:   row.Agg.Summary(),
		}
	}
	return out
}

// parseTime accepts epoch milliseconds or RFC 3339.
func parseTime(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither epoch milliseconds nor an RFC 3339 time", s)
	}
	return t.UnixMilli(), nil
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Health == nil {
		writeError(w, http.StatusNotFound, "health is not available on this node")
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Health())
}
