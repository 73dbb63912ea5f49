package html

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// count is one bar of a chart or one line of a top list.
type count struct {
	Key string
	N   int
}

// sortedCounts orders a tally most frequent first, then by key.
func sortedCounts(m map[string]int) []count {
	var out []count
	for k, n := range m {
		out = append(out, count{k, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// leafCert is one distinct server leaf certificate seen in a capture,
// with the capture time it is judged against (never the wall clock).
type leafCert struct {
	Cert    facts.Certificate
	Name    string
	Servers []string // SNI or server address it was seen for
	Capture string
	Seen    time.Time // first connection that carried it
}

// Left is the time from Seen to NotAfter (negative once expired).
func (l leafCert) Left() time.Duration { return l.Cert.NotAfter.Sub(l.Seen) }

// DaysLeft is Left in days, rounded to the nearest day.
func (l leafCert) DaysLeft() int { return int(math.Round(l.Left().Hours() / 24)) }

// within reports that the certificate expires (or expired) less than
// days after the capture saw it.
func (l leafCert) within(days int) bool { return l.Left() < time.Duration(days)*24*time.Hour }

// State says how the certificate stood when the capture saw it.
func (l leafCert) State() string {
	switch {
	case l.Cert.NotAfter.Before(l.Seen):
		return fmt.Sprintf("EXPIRED %d days before the capture", -l.DaysLeft())
	case l.Cert.NotBefore.After(l.Seen):
		return "not yet valid at the capture"
	}
	return fmt.Sprintf("%d days left", l.DaysLeft())
}

func certName(c facts.Certificate) string {
	if c.SubjectCN != "" {
		return c.SubjectCN
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject
}

// leafCerts lists the distinct leaf certificates of the given captures by
// notAfter, soonest first.
func leafCerts(caps []*report.Capture) []leafCert {
	idx := map[string]int{}
	var out []leafCert
	for _, cp := range caps {
		for _, c := range cp.Connections {
			if len(c.Certificates) == 0 {
				continue
			}
			leaf := c.Certificates[0]
			key := leaf.SHA256
			server := c.SNI()
			if server == "" {
				server = facts.Endpoint(c.Server)
			}
			if i, ok := idx[key]; ok {
				if !slices.Contains(out[i].Servers, server) {
					out[i].Servers = append(out[i].Servers, server)
				}
				continue
			}
			idx[key] = len(out)
			out = append(out, leafCert{Cert: leaf, Name: certName(leaf), Servers: []string{server}, Capture: cp.Name, Seen: c.First})
		}
	}
	slices.SortStableFunc(out, func(a, b leafCert) int { return a.Cert.NotAfter.Compare(b.Cert.NotAfter) })
	return out
}

// connFindings indexes a capture's findings by connection id.
func connFindings(fs []facts.Finding) map[uint64][]facts.Finding {
	m := map[uint64][]facts.Finding{}
	for _, f := range fs {
		if f.ConnID != 0 {
			m[f.ConnID] = append(m[f.ConnID], f)
		}
	}
	for _, l := range m {
		report.SortFindings(l)
	}
	return m
}

// serverWorst is one server and the worst finding about it.
type serverWorst struct {
	Server   string
	Worst    facts.Finding
	Findings int
}

// serversByWorst ranks servers (SNI, or address when there is none) by
// their most severe finding, then by how many findings they have.
func serversByWorst(fs []facts.Finding) []serverWorst {
	m := map[string]*serverWorst{}
	var order []string
	for _, f := range fs {
		s := f.SNI
		if s == "" {
			s = facts.Endpoint(f.Server)
		}
		if s == "" {
			continue
		}
		w := m[s]
		if w == nil {
			w = &serverWorst{Server: s, Worst: f}
			m[s] = w
			order = append(order, s)
		}
		w.Findings++
		if f.Severity > w.Worst.Severity {
			w.Worst = f
		}
	}
	var out []serverWorst
	for _, s := range order {
		out = append(out, *m[s])
	}
	slices.SortStableFunc(out, func(a, b serverWorst) int {
		if c := cmp.Compare(b.Worst.Severity, a.Worst.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Findings, a.Findings); c != 0 {
			return c
		}
		return cmp.Compare(a.Server, b.Server)
	})
	return out
}

// topSNIs counts connections per SNI ("(none)" for connections without).
func topSNIs(conns []*facts.Connection) []count {
	m := map[string]int{}
	for _, c := range conns {
		if c.TLS == nil {
			continue
		}
		s := c.SNI()
		if s == "" {
			s = "(no SNI)"
		}
		m[s]++
	}
	return sortedCounts(m)
}
