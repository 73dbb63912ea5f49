package main

import (
	"errors"
	"io"
	"time"

	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/report"
)

// Placeholder until capture, decode and decode/rules land.
type engine struct {
	filter *filter.Filter
}

func newEngine(cfg *config, now time.Time) (*engine, error) {
	e := &engine{}
	f, err := parseFilter(cfg.filter)
	if err != nil {
		return nil, err
	}
	e.filter = f
	return e, nil
}

// parseFilter reads -f; a bad expression is a usage error carrying the
// filter's own message and hint.
func parseFilter(expr string) (*filter.Filter, error) {
	if expr == "" {
		return nil, nil
	}
	f, err := filter.Parse(expr)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			ue := usagef("bad filter %q: %s (column %d)", expr, fe.Msg, fe.Column)
			ue.hint = fe.Hint
			return nil, ue
		}
		return nil, usagef("bad filter %q: %v", expr, err)
	}
	return f, nil
}

func (e *engine) file(path string, prog *progress) (*report.Capture, error) {
	return nil, usagef("reading %s: the analyzer is not built yet", path)
}

func (e *engine) rules() []report.Rule { return nil }

func (s *session) live(stdout io.Writer) (*report.Result, error) { return nil, errNoLive }

func listInterfaces(w io.Writer) error { return errNoLive }
