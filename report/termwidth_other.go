//go:build !unix

package report

import "io"

func terminalWidth(w io.Writer) int { return 0 }
