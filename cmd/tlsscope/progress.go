package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/report"
)

// progress shows, on a terminal's standard error only, how far reading a
// capture has got: bytes and percent, rate and connections so far. It is
// silent when standard error is a file or a pipe.
type progress struct {
	w     io.Writer
	on    bool
	name  string
	size  int64
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	p := &progress{w: stderr}
	if f, ok := stderr.(*os.File); ok && !quiet {
		p.on = isatty.IsTerminal(f.Fd())
	}
	return p
}

// show takes the pipeline's progress reports.
func (p *progress) show(pr tlsscope.Progress) {
	switch {
	case pr.Done:
		p.end()
		p.name = ""
	case pr.Name != p.name:
		p.begin(pr.Name, pr.Size)
	default:
		p.update(pr.Offset, pr.Connections)
	}
}

func (p *progress) begin(name string, size int64) {
	p.name, p.size, p.start, p.last = name, size, time.Now(), time.Now()
}

// update redraws at most four times a second.
func (p *progress) update(offset int64, conns int) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(offset) / max(now.Sub(p.start).Seconds(), 0.001)
	pct := ""
	if p.size > 0 {
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(offset)/float64(p.size))
	}
	fmt.Fprintf(p.w, "\r\033[Kreading %s: %s%s, %s/s, %d connections", p.name,
		report.ByteSize(uint64(offset)), pct, report.ByteSize(uint64(rate)), conns)
	p.shown = true
}

func (p *progress) end() {
	if p.on && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
