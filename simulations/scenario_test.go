package simulations

import (
	"strings"
	"testing"
	"time"
)

func TestParseQuantities(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    float64
		unit unitKind
	}{
		{"3", 3, unitNone}, {"500ms", 0.5, unitTime}, {"2h", 7200, unitTime}, {"1.5d", 129600, unitTime},
		{"1h30m", 5400, unitTime}, {"512B", 512, unitBytes}, {"4KiB", 4096, unitBytes}, {"1MB", 1e6, unitBytes},
	} {
		v, u, err := parseQuantity(tc.in)
		if err != nil || v != tc.v || u != tc.unit {
			t.Errorf("%q: %v %v %v, want %v %v", tc.in, v, u, err, tc.v, tc.unit)
		}
	}
	var r Rate
	if err := r.UnmarshalText([]byte("30/h")); err != nil || r.PerSecond() != 30.0/3600 {
		t.Errorf("rate %v %v", r, err)
	}
	var bw Bandwidth
	if err := bw.UnmarshalText([]byte("256kbps")); err != nil || bw.BytesPerSecond() != 32000 {
		t.Errorf("bandwidth %v %v", bw, err)
	}
}

func TestParseScenario(t *testing.T) {
	sc, err := Parse([]byte(`
name: t
duration: 10m
classes:
  - name: a
    count: 3
    link: {latency: {dist: lognormal, median: 20ms, p99: 200ms}, bandwidth: 1Mbps}
    workload: {rate: 6/h, batch: {dist: uniform, min: 1, max: 4}, payload: 256B}
partitions: [{at: 2m, heal: 5m, shape: ring, islands: 3}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration.D() != 10*time.Minute || sc.Classes[0].Link.Latency.Kind != "lognormal" || sc.Nodes() != 3 {
		t.Fatalf("%+v", sc)
	}
}

func TestParseRejects(t *testing.T) {
	base := "name: t\nduration: 10m\nclasses: [{name: a, count: 2}]\n"
	for _, tc := range []struct{ yaml, want string }{
		{base + "colour: blue\n", "unknown field"},
		{"name: t\nduration: ten\nclasses: [{name: a, count: 2}]\n", "duration"},
		{"name: t\nduration: 10m\nclasses: [{name: a, count: 0}]\n", "count"},
		{"name: t\nduration: 10m\nclasses: [{name: a, count: 2, link: {latency: 5KiB}}]\n", "link.latency"},
		{"name: t\nduration: 10m\nclasses: [{name: a, count: 2, link: {loss: 1.5}}]\n", "probabilities"},
		{"name: t\nduration: 10m\nclasses: [{name: a, count: 2, peers: [b]}]\n", "unknown peer"},
		{base + "partitions: [{at: 1m, heal: 5m, shape: halves}, {at: 3m, heal: 6m, shape: halves}]\n", "overlap"},
		{base + "partitions: [{at: 1m, shape: triangle}]\n", "shape"},
		{base + "actions: [{at: 1m, action: explode, nodes: [0]}]\n", "unknown action"},
		{base + "actions: [{at: 1m, action: crash, nodes: [5]}]\n", "outside"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestScaled(t *testing.T) {
	sc, err := Open("field-sink")
	if err != nil {
		t.Fatal(err)
	}
	s := sc.Scaled(1000)
	if s.Nodes() != 1000 || s.Classes[0].Count != 2 {
		t.Fatalf("scaled to %d nodes, %d sinks", s.Nodes(), s.Classes[0].Count)
	}
	if _, err := Open("no-such-scenario"); err == nil {
		t.Fatal("opened a missing scenario")
	}
}
