package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar for bulk emit, only when its
// writer is a terminal; otherwise every method does nothing.
type progress struct {
	w     io.Writer // nil: off
	total uint64    // bytes to read; 0 when unknown (stdin)
	start time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{w: w, total: uint64(max(total, 0)), start: time.Now()}
}

// update redraws the bar: read bytes of the input, events stored so far.
func (p *progress) update(read, events uint64) {
	if p.w == nil {
		return
	}
	rate := ""
	if s := time.Since(p.start).Seconds(); s > 0 {
		rate = fmt.Sprintf("  %s/s", formatCount(uint64(float64(events)/s)))
	}
	line := formatCount(events) + " events" + rate
	if p.total > 0 {
		frac := min(float64(read)/float64(p.total), 1)
		const width = 30
		done := int(frac * width)
		line = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("#", done), strings.Repeat(".", width-done), frac*100, line)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
