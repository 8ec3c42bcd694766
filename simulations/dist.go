package simulations

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Dist is a probability distribution of a quantity: a duration, a size or
// a plain number. In a scenario file it is either a constant ("40ms",
// "512B", "3") or a map naming the distribution and its parameters:
//
//	{dist: uniform, min: 10ms, max: 90ms}
//	{dist: normal, mean: 0s, stddev: 2s}         (may draw negative values)
//	{dist: lognormal, median: 40ms, p99: 400ms}  (heavy right tail)
//	{dist: exponential, mean: 2h}
//
// Values are kept in seconds, bytes or plain numbers.
type Dist struct {
	Kind   string  // "const", "uniform", "normal", "lognormal" or "exponential"
	A, B   float64 // const: A; uniform: [A, B]; normal: mean A, stddev B; lognormal: median A, p99 B; exponential: mean A
	unit   unitKind
	parsed bool
}

// distYAML is the map form of a Dist.
type distYAML struct {
	Dist   string `yaml:"dist"`
	Value  string `yaml:"value"`
	Min    string `yaml:"min"`
	Max    string `yaml:"max"`
	Mean   string `yaml:"mean"`
	Stddev string `yaml:"stddev"`
	Median string `yaml:"median"`
	P99    string `yaml:"p99"`
}

// Const returns the distribution that always draws v (seconds, bytes or a
// number).
func Const(v float64) Dist { return Dist{Kind: "const", A: v, parsed: true} }

// UnmarshalYAML accepts the scalar or the map form.
func (d *Dist) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		v, u, err := parseQuantity(s)
		if err != nil {
			return err
		}
		*d = Dist{Kind: "const", A: v, unit: u, parsed: true}
		return nil
	}
	var m distYAML
	if err := unmarshal(&m); err != nil {
		return fmt.Errorf("simulations: a distribution is a value or {dist: …}: %w", err)
	}
	return d.fromMap(m)
}

func (d *Dist) fromMap(m distYAML) error {
	params := map[string][2]string{
		"const": {m.Value, ""}, "uniform": {m.Min, m.Max}, "normal": {m.Mean, m.Stddev},
		"lognormal": {m.Median, m.P99}, "exponential": {m.Mean, ""},
	}
	names := map[string][2]string{
		"const": {"value", ""}, "uniform": {"min", "max"}, "normal": {"mean", "stddev"},
		"lognormal": {"median", "p99"}, "exponential": {"mean", ""},
	}
	p, ok := params[m.Dist]
	if !ok {
		return fmt.Errorf("simulations: unknown distribution %q (const, uniform, normal, lognormal, exponential)", m.Dist)
	}
	out := Dist{Kind: m.Dist, parsed: true}
	for i, raw := range p {
		if names[m.Dist][i] == "" {
			continue
		}
		if raw == "" {
			return fmt.Errorf("simulations: %s distribution needs %q", m.Dist, names[m.Dist][i])
		}
		v, u, err := parseQuantity(raw)
		if err != nil {
			return err
		}
		if i == 0 {
			out.A, out.unit = v, u
		} else {
			out.B = v
			if out.unit == unitNone {
				out.unit = u
			}
		}
	}
	*d = out
	return nil
}

// IsZero reports whether the distribution was not given.
func (d Dist) IsZero() bool { return !d.parsed }

// check validates the parameters; unit is what the field expects
// (unitNone accepts plain numbers only); nonNeg forbids distributions
// that draw negative values.
func (d Dist) check(field string, unit unitKind, nonNeg bool) error {
	if !d.parsed {
		return nil
	}
	if d.unit != unit && !(d.unit == unitNone && unit == unitBytes) && !(d.unit == unitNone && d.A == 0 && d.B == 0) {
		want := map[unitKind]string{unitNone: "a plain number", unitTime: "a duration", unitBytes: "a size"}[unit]
		return fmt.Errorf("simulations: %s must be %s", field, want)
	}
	var err error
	switch d.Kind {
	case "const":
		if nonNeg && d.A < 0 {
			err = errors.New("negative value")
		}
	case "uniform":
		if d.B < d.A || (nonNeg && d.A < 0) {
			err = errors.New("need min <= max (and min >= 0)")
		}
	case "normal":
		if d.B < 0 || (nonNeg && d.A < 0) {
			err = errors.New("need stddev >= 0")
		}
	case "lognormal":
		if d.A <= 0 || d.B < d.A {
			err = errors.New("need 0 < median <= p99")
		}
	case "exponential":
		if d.A < 0 {
			err = errors.New("need mean >= 0")
		}
	default:
		err = fmt.Errorf("unknown kind %q", d.Kind)
	}
	if err != nil {
		return fmt.Errorf("simulations: %s: %w", field, err)
	}
	return nil
}

// Sample draws one value from r. A distribution that was not given draws
// 0.
func (d Dist) Sample(r *rand.Rand) float64 {
	switch d.Kind {
	case "const":
		return d.A
	case "uniform":
		return d.A + r.Float64()*(d.B-d.A)
	case "normal":
		return d.A + d.B*r.NormFloat64()
	case "lognormal":
		sigma := math.Log(d.B/d.A) / 2.3263478740408408 // z of the 99th percentile
		return d.A * math.Exp(sigma*r.NormFloat64())
	case "exponential":
		return d.A * r.ExpFloat64()
	}
	return 0
}

// Mean is the distribution's mean (used for sizing and documentation).
func (d Dist) Mean() float64 {
	switch d.Kind {
	case "const", "normal", "exponential":
		return d.A
	case "uniform":
		return (d.A + d.B) / 2
	case "lognormal":
		sigma := math.Log(d.B/d.A) / 2.3263478740408408
		return d.A * math.Exp(sigma*sigma/2)
	}
	return 0
}

// String describes the distribution.
func (d Dist) String() string {
	if !d.parsed {
		return "none"
	}
	f := func(v float64) string { return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".") }
	switch d.Kind {
	case "const":
		return f(d.A)
	case "exponential":
		return "exponential(" + f(d.A) + ")"
	}
	return d.Kind + "(" + f(d.A) + ", " + f(d.B) + ")"
}
