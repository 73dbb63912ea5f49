package report

import (
	"io"
	"os"
	"strconv"
)

// Width is the width a table is fitted to: flag when it is set (--width),
// else w's when w is a terminal at least 40 columns wide, else $COLUMNS
// when it is at least 40, else DefaultWidth.
func Width(flag int, w io.Writer) int {
	if flag > 0 {
		return flag
	}
	if n := terminalWidth(w); n >= 40 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return DefaultWidth
}
