//go:build !unix

package main

import "io"

func terminalWidth(w io.Writer) int { return 0 }
