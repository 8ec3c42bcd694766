package simulations

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is a run's outcome, written as report.json. Times are virtual.
type Report struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Nodes    int    `json:"nodes"`
	// Replica is the replica kind that ran ("ledger" or "mem").
	Replica string `json:"replica"`
	// VirtualSeconds is how long the run went on, settling included.
	VirtualSeconds float64 `json:"virtual_seconds"`
	// Events is the number of events recorded (acknowledged to their
	// producer); Origins the identities that recorded them.
	Events  uint64 `json:"events"`
	Origins int    `json:"origins"`
	// Converged says every available node holds every event at the end.
	Converged bool `json:"converged"`
	// ConvergenceFromSeconds is the reference point: the last partition
	// heal (else the last action, else the end of the workload).
	ConvergenceFromSeconds float64 `json:"convergence_from_seconds"`
	// ConvergenceSeconds is how long after the reference point every
	// available node first held every event recorded before it; -1 if
	// never.
	ConvergenceSeconds float64 `json:"convergence_seconds"`
	// ConvergenceRounds is ConvergenceSeconds in anti-entropy intervals,
	// and GossipBoundRounds log2(N) + ln(N) for the fleet's N nodes.
	ConvergenceRounds float64 `json:"convergence_rounds"`
	GossipBoundRounds float64 `json:"gossip_bound_rounds"`
	// CompletenessOverTime is, per sample, the mean over running nodes of
	// the fraction of all recorded events they hold, overall and per
	// partition side.
	CompletenessOverTime []Sample `json:"completeness_over_time"`
	// LostEvents are recorded events missing from some available node at
	// the end (must be 0); WipedEvents were destroyed with the only nodes
	// holding them (a wipe's doing, not the protocol's).
	LostEvents  uint64 `json:"lost_events"`
	WipedEvents uint64 `json:"wiped_events"`
	// BytesTotal are the sync frames' bytes, headers included, both ways;
	// BytesPerEvent divides them by Events, BytesPerDelivery by the events
	// applied on some node (Deliveries).
	BytesTotal       uint64        `json:"bytes_total"`
	BytesPerEvent    float64       `json:"bytes_per_event"`
	Deliveries       uint64        `json:"deliveries"`
	BytesPerDelivery float64       `json:"bytes_per_delivery"`
	BlobBytes        uint64        `json:"blob_bytes"`
	BytesOverTime    []BytesSample `json:"bytes_over_time"`
	// Latency of deliveries: from an event's ingest at its origin to its
	// apply on another node.
	LatencyP50Ms float64      `json:"latency_p50_ms"`
	LatencyP90Ms float64      `json:"latency_p90_ms"`
	LatencyP99Ms float64      `json:"latency_p99_ms"`
	LatencyMaxMs float64      `json:"latency_max_ms"`
	LatencyCDF   []CDFPoint   `json:"latency_cdf"`
	Sessions     SessionStats `json:"sessions"`
	Network      NetStats     `json:"network"`
	Invariants   Invariants   `json:"invariants"`
}

// Sample is one point of completeness over time.
type Sample struct {
	T      float64            `json:"t"`
	All    float64            `json:"all"`
	Sides  map[string]float64 `json:"sides,omitempty"`
	Events uint64             `json:"events"`
}

// BytesSample is the sync traffic of one sample interval, and the total so
// far.
type BytesSample struct {
	T     float64 `json:"t"`
	Bytes uint64  `json:"bytes"`
	Total uint64  `json:"total"`
}

// CDFPoint says a fraction P of deliveries took at most Ms.
type CDFPoint struct {
	P  float64 `json:"p"`
	Ms float64 `json:"ms"`
}

// SessionStats summarizes the sessions, by their initiators' outcomes.
type SessionStats struct {
	Started        uint64  `json:"started"`          // sessions opened
	Completed      uint64  `json:"completed"`        // ended without error
	InSync         uint64  `json:"in_sync"`          // of which one HELLO round trip sufficed
	Timeouts       uint64  `json:"timeouts"`         // no progress for idle_ticks
	ProtocolErrors uint64  `json:"protocol_errors"`  // the peer's frames broke the protocol (frame-mode faults)
	RemoteErrors   uint64  `json:"remote_errors"`    // the peer ended the session with ERROR
	Aborted        uint64  `json:"aborted"`          // the link broke: crash, outage, partition
	EventsMoved    uint64  `json:"events_moved"`     // events carried, both ways
	MeanMs         float64 `json:"mean_ms"`          // mean duration
	MeanRoundTrips float64 `json:"mean_round_trips"` // mean protocol round trips
	durSum, rtSum  float64
}

// NetStats counts frames and what the network did to them.
type NetStats struct {
	Frames      uint64 `json:"frames"`      // frames sent
	Lost        uint64 `json:"lost"`        // dropped (frame mode)
	Duplicated  uint64 `json:"duplicated"`  // delivered twice (frame mode)
	Reordered   uint64 `json:"reordered"`   // overtaken by later frames (frame mode)
	Corrupted   uint64 `json:"corrupted"`   // bytes flipped (frame mode)
	Retransmits uint64 `json:"retransmits"` // TCP segments resent (stream mode)
}

func (s *sim) report() Report {
	m := &s.m
	r := Report{
		Scenario: s.sc.Name, Seed: s.seed, Nodes: len(s.nodes), Replica: s.opt.Replica,
		VirtualSeconds: round3(float64(s.now) / 1e9),
		Events:         s.led.total, Origins: len(s.led.origins),
		Converged:              s.final.converged,
		ConvergenceFromSeconds: round3(float64(m.ref) / 1e9),
		ConvergenceSeconds:     -1, ConvergenceRounds: -1,
		GossipBoundRounds:    round3(math.Log2(float64(len(s.nodes))) + math.Log(float64(len(s.nodes)))),
		CompletenessOverTime: m.samples,
		LostEvents:           s.final.lost, WipedEvents: s.led.gone,
		BytesTotal: m.bytes, Deliveries: m.deliveries, BlobBytes: m.blobBytes,
		BytesOverTime: m.bytesSeries,
		LatencyP50Ms:  m.lat.quantile(0.5), LatencyP90Ms: m.lat.quantile(0.9),
		LatencyP99Ms: m.lat.quantile(0.99), LatencyMaxMs: round3(m.lat.max),
		Sessions: m.sess, Network: m.net, Invariants: m.checks,
	}
	if m.convergedAt >= 0 {
		r.ConvergenceSeconds = round3(float64(m.convergedAt-m.ref) / 1e9)
		r.ConvergenceRounds = round3(r.ConvergenceSeconds / s.sc.Sync.Interval.D().Seconds())
	}
	if r.Events > 0 {
		r.BytesPerEvent = round3(float64(r.BytesTotal) / float64(r.Events))
	}
	if r.Deliveries > 0 {
		r.BytesPerDelivery = round3(float64(r.BytesTotal) / float64(r.Deliveries))
	}
	if done := m.sess.Completed + m.sess.Timeouts + m.sess.ProtocolErrors + m.sess.RemoteErrors + m.sess.Aborted; done > 0 {
		r.Sessions.MeanMs = round3(m.sess.durSum / float64(done))
		r.Sessions.MeanRoundTrips = round3(m.sess.rtSum / float64(done))
	}
	for p := 1; p <= 100; p++ {
		r.LatencyCDF = append(r.LatencyCDF, CDFPoint{P: float64(p) / 100, Ms: m.lat.quantile(float64(p) / 100)})
	}
	if m.lat.n == 0 {
		r.LatencyCDF = nil
	}
	return r
}

// JSON returns the report as indented JSON, byte-identical for identical
// runs.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes report.json and the plots (completeness.svg,
// latency_cdf.svg, bytes.svg) into dir, creating it.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("simulations: %w", err)
	}
	b, err := r.JSON()
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"report.json":      b,
		"completeness.svg": r.CompletenessSVG(),
		"latency_cdf.svg":  r.LatencySVG(),
		"bytes.svg":        r.BytesSVG(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("simulations: %w", err)
		}
	}
	return nil
}

// Summary is a human-readable account of the report.
func (r *Report) Summary() string {
	var b strings.Builder
	verdict := "CONVERGED"
	if !r.Converged {
		verdict = "NOT CONVERGED"
	}
	fmt.Fprintf(&b, "scenario %s  seed %d  nodes %d  virtual %v\n", r.Scenario, r.Seed, r.Nodes, secs(r.VirtualSeconds))
	fmt.Fprintf(&b, "  %s  lost_events %d  wiped_events %d  events %d from %d origins\n", verdict, r.LostEvents, r.WipedEvents, r.Events, r.Origins)
	if r.ConvergenceSeconds >= 0 {
		fmt.Fprintf(&b, "  convergence %v after t=%v  (%.1f rounds; log2 N + ln N = %.1f, 1.5x = %.1f)\n",
			secs(r.ConvergenceSeconds), secs(r.ConvergenceFromSeconds), r.ConvergenceRounds, r.GossipBoundRounds, 1.5*r.GossipBoundRounds)
	} else {
		fmt.Fprintf(&b, "  convergence: not reached after t=%v\n", secs(r.ConvergenceFromSeconds))
	}
	fmt.Fprintf(&b, "  latency p50 %s  p90 %s  p99 %s  max %s  (%d deliveries)\n",
		ms(r.LatencyP50Ms), ms(r.LatencyP90Ms), ms(r.LatencyP99Ms), ms(r.LatencyMaxMs), r.Deliveries)
	fmt.Fprintf(&b, "  bytes %s  (%.0f per event, %.0f per delivery)  blobs %s\n",
		size(r.BytesTotal), r.BytesPerEvent, r.BytesPerDelivery, size(r.BlobBytes))
	st := r.Sessions
	fmt.Fprintf(&b, "  sessions %d: %d ok (%d in sync), %d timeouts, %d protocol errors, %d remote errors, %d aborted; mean %.0f ms, %.2f round trips\n",
		st.Started, st.Completed, st.InSync, st.Timeouts, st.ProtocolErrors, st.RemoteErrors, st.Aborted, st.MeanMs, st.MeanRoundTrips)
	n := r.Network
	fmt.Fprintf(&b, "  frames %d: %d lost, %d duplicated, %d reordered, %d corrupted, %d segments retransmitted\n",
		n.Frames, n.Lost, n.Duplicated, n.Reordered, n.Corrupted, n.Retransmits)
	iv := r.Invariants
	fmt.Fprintf(&b, "  invariants held: %d applies verified, %d context checks, %d replicas verified\n",
		iv.VerifiedApplies, iv.ContextChecks, iv.ReplicaVerifies)
	return b.String()
}

func secs(v float64) time.Duration {
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond)
}

func ms(v float64) string {
	if v >= 1000 {
		return secs(v / 1000).String()
	}
	return fmt.Sprintf("%.1fms", v)
}

func size(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
