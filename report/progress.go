package report

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
)

// Progress shows, on a terminal's standard error only, how far reading a
// capture has got: bytes and percent, rate and connections so far. It is
// silent when standard error is a file or a pipe.
type Progress struct {
	w     io.Writer
	on    bool
	name  string
	size  int64
	start time.Time
	last  time.Time
	shown bool
}

// NewProgress draws on stderr when it is a terminal and quiet is not
// set, and does nothing otherwise.
func NewProgress(stderr io.Writer, quiet bool) *Progress {
	p := &Progress{w: stderr}
	if f, ok := stderr.(*os.File); ok && !quiet {
		p.on = isatty.IsTerminal(f.Fd())
	}
	return p
}

// Show takes one progress report of a run: a new input name begins a
// line, later reports of the same input redraw it at most four times a
// second, and done clears it.
func (p *Progress) Show(name string, size, offset int64, conns int, done bool) {
	switch {
	case done:
		p.end()
		p.name = ""
	case name != p.name:
		p.name, p.size, p.start, p.last = name, size, time.Now(), time.Now()
	default:
		p.update(offset, conns)
	}
}

func (p *Progress) update(offset int64, conns int) {
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
		ByteSize(uint64(offset)), pct, ByteSize(uint64(rate)), conns)
	p.shown = true
}

func (p *Progress) end() {
	if p.on && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
