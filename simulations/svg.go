package simulations

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
)

// series is one line of a chart.
type series struct {
	name string
	x, y []float64
}

// chart is a line chart rendered as a standalone SVG, with no
// dependencies: axes with ticks, one polyline per series, a legend.
type chart struct {
	title, xlabel, ylabel string
	logX                  bool
	ymin, ymax            float64 // y range; both 0: from the data
	series                []series
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

const (
	svgW, svgH             = 720, 420
	padL, padR, padT, padB = 70, 150, 40, 50
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// svg renders the chart.
func (c *chart) svg() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(c.title))
	x0, x1, y0, y1 := c.bounds()
	pw, ph := float64(svgW-padL-padR), float64(svgH-padT-padB)
	tx := func(v float64) float64 {
		if c.logX {
			v, x0, x1 := math.Log10(math.Max(v, 1e-9)), math.Log10(x0), math.Log10(x1)
			return padL + (v-x0)/(x1-x0)*pw
		}
		return padL + (v-x0)/(x1-x0)*pw
	}
	ty := func(v float64) float64 { return padT + ph - (v-y0)/(y1-y0)*ph }
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%s" fill="none" stroke="#444"/>`+"\n", padL, padT, f1(pw), f1(ph))
	for _, v := range c.xticks(x0, x1) {
		x := tx(v)
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%s" stroke="#ddd"/>`, f1(x), padT, f1(x), f1(padT+ph))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f1(x), f1(padT+ph+16), label(v))
	}
	for i := 0; i <= 5; i++ {
		v := y0 + (y1-y0)*float64(i)/5
		y := ty(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%s" y2="%s" stroke="#ddd"/>`, padL, f1(y), f1(padL+pw), f1(y))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", padL-6, f1(y+4), label(v))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", f1(padL+pw/2), svgH-10, html.EscapeString(c.xlabel))
	fmt.Fprintf(&b, `<text x="16" y="%s" text-anchor="middle" transform="rotate(-90 16 %s)">%s</text>`+"\n", f1(padT+ph/2), f1(padT+ph/2), html.EscapeString(c.ylabel))
	for i, s := range c.series {
		col := palette[i%len(palette)]
		var pts []string
		for k := range s.x {
			pts = append(pts, f1(tx(s.x[k]))+","+f1(ty(s.y[k])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(pts, " "))
		ly := padT + 10 + 18*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`, svgW-padR+12, ly, svgW-padR+32, ly, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", svgW-padR+38, ly+4, html.EscapeString(s.name))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// bounds returns the axes' ranges.
func (c *chart) bounds() (x0, x1, y0, y1 float64) {
	x0, x1, y0, y1 = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.series {
		for k := range s.x {
			x0, x1 = math.Min(x0, s.x[k]), math.Max(x1, s.x[k])
			y0, y1 = math.Min(y0, s.y[k]), math.Max(y1, s.y[k])
		}
	}
	if math.IsInf(x0, 0) {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	if c.ymin != 0 || c.ymax != 0 {
		y0, y1 = c.ymin, c.ymax
	}
	if c.logX {
		x0 = math.Max(x0, 1e-3)
		x0, x1 = math.Pow(10, math.Floor(math.Log10(x0))), math.Pow(10, math.Ceil(math.Log10(math.Max(x1, x0*10))))
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return x0, x1, y0, y1
}

func (c *chart) xticks(x0, x1 float64) []float64 {
	var out []float64
	if c.logX {
		for v := x0; v <= x1*1.0001; v *= 10 {
			out = append(out, v)
		}
		return out
	}
	for i := 0; i <= 6; i++ {
		out = append(out, x0+(x1-x0)*float64(i)/6)
	}
	return out
}

// label formats a tick value compactly.
func label(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// CompletenessSVG plots completeness over time, overall and per partition
// side.
func (r *Report) CompletenessSVG() []byte {
	c := &chart{title: r.Scenario + ": completeness over time", xlabel: "virtual time (minutes)", ylabel: "fraction of all events held (mean)", ymin: 0, ymax: 1}
	all := series{name: "all"}
	sides := map[string]*series{}
	var names []string
	for _, s := range r.CompletenessOverTime {
		all.x, all.y = append(all.x, s.T/60), append(all.y, s.All)
		for name, v := range s.Sides {
			if sides[name] == nil {
				sides[name] = &series{name: name}
				names = append(names, name)
			}
			sides[name].x, sides[name].y = append(sides[name].x, s.T/60), append(sides[name].y, v)
		}
	}
	c.series = append(c.series, all)
	slices.Sort(names)
	for _, n := range names {
		c.series = append(c.series, *sides[n])
	}
	return c.svg()
}

// LatencySVG plots the CDF of delivery latency on a log scale.
func (r *Report) LatencySVG() []byte {
	c := &chart{title: r.Scenario + ": delivery latency CDF", xlabel: "latency (ms, log scale)", ylabel: "fraction of deliveries", logX: true, ymin: 0, ymax: 1}
	s := series{name: "deliveries"}
	for _, p := range r.LatencyCDF {
		s.x, s.y = append(s.x, math.Max(p.Ms, 1e-3)), append(s.y, p.P)
	}
	c.series = []series{s}
	return c.svg()
}

// BytesSVG plots sync traffic per sample interval and in total.
func (r *Report) BytesSVG() []byte {
	c := &chart{title: r.Scenario + ": sync bytes over time", xlabel: "virtual time (minutes)", ylabel: "bytes"}
	c.ylabel = "bytes per second (all nodes)"
	per := series{name: "sync traffic"}
	prev := 0.0
	for _, s := range r.BytesOverTime {
		rate := 0.0
		if dt := s.T - prev; dt > 0 {
			rate = float64(s.Bytes) / dt
		}
		per.x, per.y, prev = append(per.x, s.T/60), append(per.y, rate), s.T
	}
	c.series = []series{per}
	return c.svg()
}
