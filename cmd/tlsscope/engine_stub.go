package main

import (
	"io"
	"time"

	"github.com/tlsscope/tlsscope/report"
)

// Placeholder until capture, decode and decode/rules land.
type engine struct{}

func newEngine(cfg *config, now time.Time) (*engine, error) { return &engine{}, nil }

func (e *engine) file(path string, prog *progress) (*report.Capture, error) {
	return nil, usagef("reading %s: the analyzer is not built yet", path)
}

func (e *engine) rules() []report.Rule { return nil }

func (s *session) live(stdout io.Writer) (*report.Result, error) { return nil, errNoLive }

func listInterfaces(w io.Writer) error { return errNoLive }
