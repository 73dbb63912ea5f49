package report

// The per-capture summary: the most asked-for SNIs, the servers ranked by
// their worst finding, the leaf certificates by expiry. The table format
// prints it as text after its tables (WriteSummaryText); the HTML page
// draws the same lists.

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// Count is one bar of a chart or one line of a top list.
type Count struct {
	Key string
	N   int
}

// SortedCounts orders a tally most frequent first, then by key.
func SortedCounts(m map[string]int) []Count {
	var out []Count
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// LeafCert is one distinct server leaf certificate seen in a capture,
// with the capture time it is judged against (never the wall clock).
type LeafCert struct {
	Cert    facts.Certificate
	Name    string
	Servers []string // SNI or server address it was seen for
	Capture string
	Seen    time.Time // first connection that carried it
}

// Left is the time from Seen to NotAfter (negative once expired).
func (l LeafCert) Left() time.Duration { return l.Cert.NotAfter.Sub(l.Seen) }

// DaysLeft is Left in days, rounded to the nearest day.
func (l LeafCert) DaysLeft() int { return int(math.Round(l.Left().Hours() / 24)) }

// Within reports that the certificate expires (or expired) less than
// days after the capture saw it.
func (l LeafCert) Within(days int) bool { return l.Left() < time.Duration(days)*24*time.Hour }

// State says how the certificate stood when the capture saw it.
func (l LeafCert) State() string {
	switch {
	case l.Cert.NotAfter.Before(l.Seen):
		return fmt.Sprintf("EXPIRED %d days before the capture", -l.DaysLeft())
	case l.Cert.NotBefore.After(l.Seen):
		return "not yet valid at the capture"
	}
	return fmt.Sprintf("%d days left", l.DaysLeft())
}

func CertName(c facts.Certificate) string {
	if c.SubjectCN != "" {
		return c.SubjectCN
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject
}

// LeafCerts lists the distinct leaf certificates of the given captures by
// notAfter, soonest first.
func LeafCerts(caps []*Capture) []LeafCert {
	idx := map[string]int{}
	var out []LeafCert
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
			out = append(out, LeafCert{Cert: leaf, Name: CertName(leaf), Servers: []string{server}, Capture: cp.Name, Seen: c.First})
		}
	}
	slices.SortStableFunc(out, func(a, b LeafCert) int { return a.Cert.NotAfter.Compare(b.Cert.NotAfter) })
	return out
}

// ServerWorst is one server and the worst finding about it.
type ServerWorst struct {
	Server   string
	Worst    facts.Finding
	Findings int
}

// ServersByWorst ranks servers (SNI, or address when there is none) by
// their most severe finding, then by how many findings they have.
func ServersByWorst(fs []facts.Finding) []ServerWorst {
	m := map[string]*ServerWorst{}
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
			w = &ServerWorst{Server: s, Worst: f}
			m[s] = w
			order = append(order, s)
		}
		w.Findings++
		if f.Severity > w.Worst.Severity {
			w.Worst = f
		}
	}
	var out []ServerWorst
	for _, s := range order {
		out = append(out, *m[s])
	}
	slices.SortStableFunc(out, func(a, b ServerWorst) int {
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

// TopSNIs counts connections per SNI ("(none)" for connections without).
func TopSNIs(conns []*facts.Connection) []Count {
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
	return SortedCounts(m)
}

// SummaryTop: how many lines each list of the per-capture summary
// shows before "and N more".
const (
	SummaryTop = 10
)

// WriteSummaryText writes the per-capture summary as plain text, for the
// table format to print after its tables: the most asked-for SNIs, the
// servers ranked by their worst finding, and the certificates that expire
// within 30 and 90 days of the capture (judged at the time the capture
// saw them, never the wall clock; already expired ones are listed too).
// A list with nothing in it is left out, and so is a capture with nothing
// to list.
//
// Nothing is cut: a line wider than width (0: no limit) wraps at spaces,
// names, SNIs and ids are printed whole, and text from traffic or file
// names goes through summaryLine.
func WriteSummaryText(w io.Writer, r *Result, width int) error {
	var b strings.Builder
	for _, c := range r.Captures {
		var sec strings.Builder
		if snis := TopSNIs(c.Connections); len(snis) > 0 {
			sec.WriteString("  Top SNIs:\n")
			for j, s := range snis {
				if j == SummaryTop {
					fmt.Fprintf(&sec, "    and %d more\n", len(snis)-j)
					break
				}
				fmt.Fprintf(&sec, "    %5d  %s\n", s.N, summaryLine(s.Key))
			}
		}
		if sw := ServersByWorst(c.Findings); len(sw) > 0 {
			sec.WriteString("  Servers by worst finding:\n")
			for j, s := range sw {
				if j == SummaryTop {
					fmt.Fprintf(&sec, "    and %d more\n", len(sw)-j)
					break
				}
				fmt.Fprintf(&sec, "    %-8s  %s: %s (%s)\n", s.Worst.Severity, summaryLine(s.Server), s.Worst.ID, plural(s.Findings, "finding"))
			}
		}
		certs := LeafCerts([]*Capture{c})
		for _, w := range []struct {
			title    string
			from, to int
		}{
			{"Certificates expired or expiring within 30 days:", -1, 30}, // -1: no lower bound
			{"Certificates expiring in 30 to 90 days:", 30, 90},
		} {
			n := 0
			for _, l := range certs {
				if !l.Within(w.to) || w.from >= 0 && l.Within(w.from) {
					continue
				}
				if n++; n == 1 {
					fmt.Fprintf(&sec, "  %s\n", w.title)
				}
				fmt.Fprintf(&sec, "    %s  %s (%s): %s\n", l.Cert.NotAfter.UTC().Format("2006-01-02"),
					summaryLine(l.Name), summaryLine(moreList(l.Servers, 3)), l.State())
			}
		}
		if sec.Len() == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Summary of %s\n%s", summaryLine(c.Name), sec.String())
	}
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		for _, l := range wrapLine(strings.TrimSuffix(line, "\n"), width) {
			out.WriteString(l + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// summaryLine keeps text taken from traffic on one line and free of control
// characters (an SNI may carry terminal escape sequences).
func summaryLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' && r != '\n' {
			return '?'
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
