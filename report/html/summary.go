package html

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/tlsscope/tlsscope/report"
)

// Summary limits: how many lines each list of the per-capture summary
// shows before "and N more".
const (
	summaryTop = 10
)

// WriteSummaryText writes the per-capture summary as plain text, for the
// table format to print after its tables: the most asked-for SNIs, the
// servers ranked by their worst finding, and the certificates that expire
// within 30 and 90 days of the capture (judged at the time the capture
// saw them, never the wall clock; already expired ones are listed too).
func WriteSummaryText(w io.Writer, r *report.Result) error {
	var b strings.Builder
	for i, c := range r.Captures {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Summary of %s\n", c.Name)
		b.WriteString("  Top SNIs:\n")
		snis := topSNIs(c.Connections)
		if len(snis) == 0 {
			b.WriteString("    none\n")
		}
		for j, s := range snis {
			if j == summaryTop {
				fmt.Fprintf(&b, "    and %d more\n", len(snis)-j)
				break
			}
			fmt.Fprintf(&b, "    %5d  %s\n", s.N, oneLine(s.Key))
		}
		b.WriteString("  Servers by worst finding:\n")
		sw := serversByWorst(c.Findings)
		if len(sw) == 0 {
			b.WriteString("    none\n")
		}
		for j, s := range sw {
			if j == summaryTop {
				fmt.Fprintf(&b, "    and %d more\n", len(sw)-j)
				break
			}
			fmt.Fprintf(&b, "    %-8s  %s: %s (%s)\n", s.Worst.Severity, oneLine(s.Server), s.Worst.ID, plural(s.Findings, "finding"))
		}
		certs := leafCerts([]*report.Capture{c})
		for _, w := range []struct {
			title    string
			from, to int
		}{
			{"Certificates expired or expiring within 30 days:", -1, 30}, // -1: no lower bound
			{"Certificates expiring in 30 to 90 days:", 30, 90},
		} {
			fmt.Fprintf(&b, "  %s\n", w.title)
			n := 0
			for _, l := range certs {
				if !l.within(w.to) || w.from >= 0 && l.within(w.from) {
					continue
				}
				n++
				fmt.Fprintf(&b, "    %s  %s (%s): %s\n", l.Cert.NotAfter.UTC().Format("2006-01-02"),
					oneLine(l.Name), oneLine(strings.Join(l.Servers, ", ")), l.State())
			}
			if n == 0 {
				b.WriteString("    none\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps text taken from traffic on one line and free of control
// characters (an SNI may carry terminal escape sequences).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' && r != '\n' {
			return '?'
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
