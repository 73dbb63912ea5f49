package main

import (
	"errors"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/tlsscope/tlsscope/report"
	"github.com/tlsscope/tlsscope/report/ladder"
)

// lookupFormat is the format called name (the zero Format when unknown).
func lookupFormat(name string) report.Format {
	f, _ := report.LookupFormat(name)
	return f
}

func extension(format string) string { return lookupFormat(format).Extension }

// writeLadders draws the handshake ladder of every connection the --ladder
// query selects, in colour when stdout is a terminal.
func writeLadders(cfg *config, r *report.Result, stdout io.Writer) error {
	color := false
	if f, ok := stdout.(*os.File); ok {
		color = isatty.IsTerminal(f.Fd())
	}
	opt := ladder.Options{Color: color, Width: reportOptions(cfg).Width, ShowSecrets: cfg.ShowSecrets}
	err := ladder.WriteResult(stdout, r, cfg.ladder, opt)
	switch {
	case errors.Is(err, ladder.ErrNoMatch):
		return usagef("--ladder %q: no connection matches", cfg.ladder).withHint("select by id (#12), SNI (glob) or address (ip or ip:port); the table or ndjson output shows them")
	case err != nil:
		return usagef("--ladder: %v", err)
	}
	return nil
}
