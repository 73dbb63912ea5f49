// Package report turns what a run produced (a Result: per capture file its
// counters, connection facts, findings and anomalies) into the formats a
// user reads or a pipeline consumes: table, ndjson, json, csv, sarif, junit
// and markdown. Every format is a function of the Result; none decodes
// anything. Secrets are printed masked unless Options.ShowSecrets is set.
package report

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
)

// Result is what one run produced.
type Result struct {
	Tool     string // "tlsscope"
	Version  string
	Captures []*Capture
	// Rules describes the finding ids (title, help, reference) for formats
	// that carry rule metadata (SARIF). An id missing here is taken from
	// decode/rules' table, else described from its findings.
	Rules []rules.Definition
}

// Capture is one input (a file or an interface) and what it held.
type Capture struct {
	Name        string
	Stats       facts.Stats
	Connections []*facts.Connection
	Findings    []facts.Finding
	Anomalies   []facts.Anomaly
	// Tally, when set, is what the summary counts: a run that prints each
	// connection as it closes keeps no Connections or Findings and counts
	// them here instead. When nil the summary counts Connections and
	// Findings (see Counts).
	Tally *Tally
}

// Options shape the output; none changes which facts are reported.
type Options struct {
	// ShowSecrets prints a secret's Value where its masked form would be.
	ShowSecrets bool
	// Width is the width the table format fits (0: no limit, every value
	// whole; report.Width chooses it for standard output).
	Width int
	// FailOn is the lowest severity the junit format reports as a failure.
	FailOn facts.Severity
}

// Totals combines the counters of every capture.
func (r *Result) Totals() facts.Stats {
	var t facts.Stats
	for _, c := range r.Captures {
		t.Add(c.Stats)
	}
	t.Files = len(r.Captures)
	return t
}

// Findings returns every capture's findings, most severe first (then by
// capture order, connection and id), the order every format lists them in.
func (r *Result) Findings() []facts.Finding {
	var all []facts.Finding
	for _, c := range r.Captures {
		all = append(all, c.Findings...)
	}
	SortFindings(all)
	return all
}

// SortFindings orders findings most severe first, then by time, connection
// and id, keeping the order stable for equal keys.
func SortFindings(fs []facts.Finding) {
	slices.SortStableFunc(fs, func(a, b facts.Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ConnID, b.ConnID); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Worst is the highest severity among fs, and false when fs is empty.
func Worst(fs []facts.Finding) (facts.Severity, bool) {
	if len(fs) == 0 {
		return 0, false
	}
	w := fs[0].Severity
	for _, f := range fs[1:] {
		w = max(w, f.Severity)
	}
	return w, true
}

// rule returns the description of id: from r.Rules, else decode/rules'
// table, else made up from the first finding with that id.
func (r *Result) rule(id string, f *facts.Finding) rules.Definition {
	for _, d := range r.Rules {
		if d.ID == id {
			return d
		}
	}
	if d, ok := rules.Lookup(id); ok {
		return d
	}
	ru := rules.Definition{ID: id}
	if f != nil {
		ru.Severity = f.Severity
		ru.Title = f.Message
		ru.Help = f.Message
		ru.Reference = f.Reference
	}
	return ru
}

// byConn indexes a capture's findings by connection id.
func byConn(fs []facts.Finding) map[uint64][]facts.Finding {
	m := make(map[uint64][]facts.Finding)
	for _, f := range fs {
		if f.ConnID != 0 {
			m[f.ConnID] = append(m[f.ConnID], f)
		}
	}
	return m
}

func toolName(r *Result) string {
	if r.Tool != "" {
		return r.Tool
	}
	return "tlsscope"
}

// HumanDuration says how long a span of capture time is the way a person
// reads it: "1.463s" or "42m10.5s" under an hour, "5h 3m" under two days,
// then "4643 days 6h" (not "111438h34m14.078s").
func HumanDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.Round(time.Millisecond).String()
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days %dh", int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour))
}

func span(s facts.Stats) time.Duration {
	if s.First.IsZero() || s.Last.Before(s.First) {
		return 0
	}
	return s.Last.Sub(s.First)
}
