package report

import (
	"io"
	"os"
	"strconv"

	"github.com/mattn/go-isatty"
)

// Width is the width a table is fitted to: flag when it is set (--width),
// else, when w is a terminal, its width (or $COLUMNS when the terminal
// does not say, else DefaultWidth); else 0, no limit, so that a table
// piped or written to a file keeps every value whole (as tcpdump and
// tshark print their lines).
func Width(flag int, w io.Writer) int {
	if flag > 0 {
		return flag
	}
	if !isTerminal(w) {
		return 0
	}
	if n := terminalWidth(w); n >= 40 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return DefaultWidth
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
