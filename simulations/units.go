package simulations

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in scenario files as Go durations
// ("500ms", "30s", "2h") or with a "d" suffix for days ("1.5d").
type Duration time.Duration

// UnmarshalText parses a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, kind, err := parseQuantity(string(b))
	if err != nil || kind != unitTime {
		return fmt.Errorf("simulations: %q is not a duration (use 500ms, 30s, 2h, 1d)", b)
	}
	*d = Duration(time.Duration(v * float64(time.Second)))
	return nil
}

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Size is a number of bytes written as "512B", "4KiB", "1MB" or a plain
// number.
type Size int64

// UnmarshalText parses a size.
func (s *Size) UnmarshalText(b []byte) error {
	v, kind, err := parseQuantity(string(b))
	if err != nil || (kind != unitBytes && kind != unitNone) || v < 0 {
		return fmt.Errorf("simulations: %q is not a size (use 512B, 4KiB, 1MB)", b)
	}
	*s = Size(math.Round(v))
	return nil
}

// Bandwidth is a link capacity in bits per second, written "256kbps",
// "10Mbps", "1Gbps" or "0" (unlimited).
type Bandwidth float64

// UnmarshalText parses a bandwidth.
func (bw *Bandwidth) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"Gbps", 1e9}, {"Mbps", 1e6}, {"kbps", 1e3}, {"bps", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("simulations: %q is not a bandwidth (use 256kbps, 10Mbps)", b)
	}
	*bw = Bandwidth(v * mult)
	return nil
}

// BytesPerSecond returns the capacity in bytes per second; 0 is unlimited.
func (bw Bandwidth) BytesPerSecond() float64 { return float64(bw) / 8 }

// Rate is a number of occurrences per unit of time, written "30/h",
// "0.5/s", "2/m" or "10/d".
type Rate float64

// UnmarshalText parses a rate into occurrences per second.
func (r *Rate) UnmarshalText(b []byte) error {
	num, unit, ok := strings.Cut(strings.TrimSpace(string(b)), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	per := map[string]float64{"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[strings.TrimSpace(unit)]
	if !ok || err != nil || per == 0 || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("simulations: %q is not a rate (use 30/h, 0.5/s)", b)
	}
	*r = Rate(v / per)
	return nil
}

// PerSecond returns the rate in occurrences per second.
func (r Rate) PerSecond() float64 { return float64(r) }

type unitKind uint8

const (
	unitNone  unitKind = iota // a plain number
	unitTime                  // seconds
	unitBytes                 // bytes
)

var timeUnits = []struct {
	suffix string
	secs   float64
}{{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}

var byteUnits = []struct {
	suffix string
	bytes  float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// parseQuantity parses a number with an optional time or byte unit into
// seconds, bytes or a plain number. Go durations with several units
// ("1h30m") are accepted too.
func parseQuantity(s string) (float64, unitKind, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		return v, unitNone, nil
	}
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, 0, fmt.Errorf("simulations: bad size %q", s)
			}
			return v * u.bytes, unitBytes, nil
		}
	}
	if rest, ok := strings.CutSuffix(s, "d"); ok {
		if v, err := strconv.ParseFloat(rest, 64); err == nil {
			return v * 86400, unitTime, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d.Seconds(), unitTime, nil
	}
	for _, u := range timeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseFloat(rest, 64); err == nil {
				return v * u.secs, unitTime, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("simulations: cannot parse quantity %q", s)
}
