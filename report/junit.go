package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// JUnit XML as CI systems read it (the Ant/Jenkins schema): a testsuite
// per capture; a passing testcase per connection with no finding at or
// above Options.FailOn, and a failing testcase per such finding, with its
// one failure (GitLab and Jenkins show one failure of a testcase).

// JUnitSuites is the root element.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one capture.
type JUnitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitCase is one connection that passed, or one finding of a connection
// (or, for findings tied to none, of the capture) that failed.
type JUnitCase struct {
	Name      string         `xml:"name,attr"`
	ClassName string         `xml:"classname,attr"`
	Time      string         `xml:"time,attr"`
	Failures  []JUnitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

// JUnitFailure is one finding.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// NewJUnit builds the JUnit document of r.
func NewJUnit(r *Result, opt Options) JUnitSuites {
	doc := JUnitSuites{Name: toolName(r)}
	for _, c := range r.Captures {
		s := JUnitSuite{Name: c.Name, Time: fmt.Sprintf("%.3f", span(c.Stats).Seconds())}
		if !c.Stats.First.IsZero() {
			s.Timestamp = c.Stats.First.UTC().Format("2006-01-02T15:04:05")
		}
		idx := byConn(c.Findings)
		class := "tlsscope." + c.Name
		for _, conn := range c.Connections {
			tc := JUnitCase{
				Name:      fmt.Sprintf("#%d %s", conn.ID, ConnectionLabel(facts.Endpoint(conn.Client), facts.Endpoint(conn.Server), conn.SNI())),
				ClassName: class,
				Time:      fmt.Sprintf("%.3f", conn.Last.Sub(conn.First).Seconds()),
				SystemOut: connSummary(conn),
			}
			fs := idx[conn.ID]
			SortFindings(fs)
			failed := false
			for _, f := range fs {
				if f.Severity >= opt.FailOn {
					fc := tc
					fc.Name += ": " + f.ID
					fc.Failures = []JUnitFailure{junitFailure(f)}
					s.Cases = append(s.Cases, fc)
					failed = true
				}
			}
			if !failed {
				s.Cases = append(s.Cases, tc)
			}
		}
		ids := connIDs(c)
		for _, f := range c.Findings {
			if !ids[f.ConnID] && f.Severity >= opt.FailOn {
				s.Cases = append(s.Cases, JUnitCase{Name: "capture: " + f.ID, ClassName: class, Time: "0.000", Failures: []JUnitFailure{junitFailure(f)}})
			}
		}
		for _, tc := range s.Cases {
			s.Tests++
			if len(tc.Failures) > 0 {
				s.Failures++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
	}
	return doc
}

func junitFailure(f facts.Finding) JUnitFailure {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s] %s", f.ID, f.Severity, f.Message)
	if f.Evidence != "" {
		fmt.Fprintf(&b, "\nevidence: %s", f.Evidence)
	}
	if f.Reference != "" {
		fmt.Fprintf(&b, "\nreference: %s", f.Reference)
	}
	return JUnitFailure{Message: f.Severity.String() + ": " + f.Message, Type: f.ID, Text: b.String()}
}

func connSummary(c *facts.Connection) string {
	rec := connRow(c, nil)
	parts := []string{"status " + Status(c)}
	for _, i := range []int{4, 5} { // TLS version, suite
		if rec[i] != "" {
			parts = append(parts, rec[i])
		}
	}
	return strings.Join(parts, ", ")
}

// WriteJUnit writes r as JUnit XML.
func WriteJUnit(w io.Writer, r *Result, opt Options) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(NewJUnit(r, opt)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
