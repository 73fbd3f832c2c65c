package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar on a terminal (stderr). It redraws
// at most ten times a second so that a fast loop does not spend its time
// printing.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	start time.Time
	stage string
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

// Update reports done of total in stage.
func (p *progress) Update(stage string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if stage == p.stage && done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	if stage != p.stage && p.stage != "" {
		fmt.Fprintln(p.w)
	}
	p.stage, p.last = stage, now
	if total <= 0 { // unknown total: a counter
		fmt.Fprintf(p.w, "\r%-22s %d %s", stage, done, now.Sub(p.start).Round(100*time.Millisecond))
		return
	}
	const width = 30
	filled := width
	pct := 100.0
	if total > 0 {
		filled = min(width, done*width/total)
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r%-22s [%s%s] %5.1f%% %d/%d %s",
		stage, strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, done, total,
		now.Sub(p.start).Round(100*time.Millisecond))
}

// Done ends the bar's line.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stage != "" {
		fmt.Fprintln(p.w)
		p.stage = ""
	}
}
