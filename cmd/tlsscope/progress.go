package main

import (
	"io"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/report"
)

// progress is report's progress line fed by the pipeline's reports.
type progress struct {
	*report.Progress
	name string
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	return &progress{Progress: report.NewProgress(stderr, quiet)}
}

func (p *progress) show(pr tlsscope.Progress) {
	switch {
	case pr.Done:
		p.End()
		p.name = ""
	case pr.Name != p.name:
		p.name = pr.Name
		p.Begin(pr.Name, pr.Size)
	default:
		p.Update(pr.Offset, pr.Connections)
	}
}
