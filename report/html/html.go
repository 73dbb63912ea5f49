// Package html writes the report as one self-contained HTML file: summary
// cards, inline SVG charts (versions, suites, certificate expiry, findings
// by id), a sortable and filterable connections table whose rows open onto
// the connection's ladder diagram, the findings with their evidence and
// reference links, and a per-capture summary. It fetches nothing: the CSS
// and JavaScript are inline and small, charts are SVG drawn here, and the
// only URLs are the findings' references (plain links). It prints to PDF
// with everything expanded.
//
// Importing it adds "html" to report's formats (report.RegisterFormat):
// report cannot import it, since it draws ladders, which import report.
// Like every format it reads the Result only. Secrets appear only in their
// masked form (finding evidence is masked by the rules; cleartext secrets
// print Secret.Masked) unless Options.ShowSecrets is set.
package html

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/report"
	"github.com/tlsscope/tlsscope/report/ladder"
)

//go:embed report.css
var css string

//go:embed report.js
var js string

//go:embed report.tmpl
var page string

// LadderWidth is the width of the ladder diagrams in the report.
const LadderWidth = 100

// MaxLadders bounds how many connections get a ladder in the file (each
// is a few KB); the rest say how to draw theirs with --ladder.
const MaxLadders = 2000

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"sev":  func(s facts.Severity) string { return s.String() },
	"int":  func(s facts.Severity) int { return int(s) },
	"ref":  referenceLink,
	"css":  func() template.CSS { return template.CSS(css) },
	"js":   func() template.JS { return template.JS(js) },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}).Parse(page))

// view is what the template draws.
type view struct {
	Title    string
	Tool     string
	Captures []string
	Dir      string // the directory every capture is in (Captures then are base names)
	Span     string
	Cards    []card
	Charts   []template.HTML
	Conns    []connRow
	Multi    bool // more than one capture: show the capture column
	Findings []findingRow
	Rules    []rules.Definition
	Summary  []captureSummary
	Anomaly  []count // anomalies by kind, over every capture
}

type card struct {
	Label, Value, Class string
}

type connRow struct {
	ID                                  uint64
	Anchor                              string // the row's element id, "c<capture>-<id>"
	CaptureIndex                        int    // in Result.Captures, for the capture filter
	Capture, CaptureBase                string
	Client, Server, SNI                 string
	Version, Suite, ALPN, Cert, Status  string
	WorstSev                            int // -1: none
	Worst                               string
	WorstClass                          string
	NFindings                           int
	FindingIDs                          string // every finding id, for the filter
	Ladder                              template.HTML
	Start                               string
	VersionSort                         uint16
	StatusClass, ClientSort, ServerSort string
	Failed, Established                 bool
	Findings                            []facts.Finding // the connection's, shown in its detail
	Chain                               []chainCert
	Trust                               string // what the findings say of the chain
}

// chainCert is one certificate of the chain view.
type chainCert struct {
	facts.Certificate
	Role string // "leaf", "intermediate 1", ...
	SANs string
}

type findingRow struct {
	facts.Finding
	Target       string
	Conn         string
	Anchor       string // the connection row's element id
	CaptureIndex int    // -1: its capture is not in the result
}

type captureSummary struct {
	Name    string
	SNIs    []count
	Servers []serverWorst
	Certs   []leafCert
	More    int
}

// Importing the package adds "html" to report's formats.
func init() {
	report.RegisterFormat(report.Format{Name: "html", Extension: "html", Write: Write})
}

// Write renders r as one HTML document.
func Write(w io.Writer, r *report.Result, opt report.Options) error {
	v := build(r, opt)
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(printablePage(b.Bytes()))
	return err
}

// printablePage applies report.Printable's rule to the whole page, whose
// text from traffic html/template escapes for HTML but not for the eye:
// control characters other than tab and newlines become "?", invalid
// UTF-8 too, and bidi overrides and zero-width characters (Unicode Cf)
// are shown as [U+202E].
func printablePage(page []byte) []byte {
	clean := utf8.Valid(page)
	for i := 0; clean && i < len(page); {
		r, n := utf8.DecodeRune(page[i:])
		clean = !unicode.Is(unicode.Cf, r) && (!unicode.IsControl(r) || r == '\t' || r == '\n' || r == '\r')
		i += n
	}
	if clean {
		return page
	}
	var b bytes.Buffer
	for _, r := range strings.ToValidUTF8(string(page), "?") {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		default:
			b.WriteString(report.Printable(string(r)))
		}
	}
	return b.Bytes()
}

func build(r *report.Result, opt report.Options) *view {
	tool := r.Tool
	if tool == "" {
		tool = "tlsscope"
	}
	v := &view{Tool: strings.TrimSpace(tool + " " + r.Version), Multi: len(r.Captures) > 1, Rules: r.Rules}
	var conns []*facts.Connection
	for _, c := range r.Captures {
		v.Captures = append(v.Captures, c.Name)
		conns = append(conns, c.Connections...)
	}
	v.Title = tool + " report"
	if len(v.Captures) == 1 {
		v.Title += ": " + v.Captures[0]
	}
	if len(v.Captures) > 1 && filepath.Dir(v.Captures[0]) != "." {
		dir, in := filepath.Dir(v.Captures[0]), true
		for _, c := range v.Captures {
			in = in && filepath.Dir(c) == dir
		}
		if in {
			v.Dir = dir
			for i, c := range v.Captures {
				v.Captures[i] = filepath.Base(c)
			}
		}
	}
	st := r.Totals()
	anomalies := map[string]int{}
	for k, n := range st.Anomalies {
		anomalies[k] = int(n)
	}
	v.Anomaly = sortedCounts(anomalies)
	if !st.First.IsZero() {
		v.Span = fmt.Sprintf("%s to %s (%s)", st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339), report.HumanDuration(st.Last.Sub(st.First)))
	}

	fs := r.Findings()
	hs := report.CountHandshakes(conns)
	v.Cards = []card{
		{"connections", fmt.Sprint(len(conns)), ""},
		{"TLS handshakes", fmt.Sprint(hs.TLS), ""},
		{"failed handshakes", fmt.Sprint(hs.Failed), cls(hs.Failed > 0, "bad")},
		{"cleartext secrets", fmt.Sprint(countSecrets(conns)), cls(countSecrets(conns) > 0, "bad")},
	}
	bySev := map[facts.Severity]int{}
	byID := map[string]int{}
	for _, f := range fs {
		bySev[f.Severity]++
		byID[f.ID]++
	}
	for s := facts.Critical; ; s-- {
		v.Cards = append(v.Cards, card{s.String(), fmt.Sprint(bySev[s]), cls(bySev[s] > 0, s.String())})
		if s == facts.Info {
			break
		}
	}

	v.Charts = []template.HTML{
		barChart("TLS versions", sortedCounts(hs.Versions), nil),
		barChart("Cipher suites", shortSuites(hs.Suites), nil),
		barChart("Findings by id", sortedCounts(byID), findingClass(fs)),
		expiryChart(leafCerts(r.Captures)),
	}

	ladders := 0
	anchor := map[string]int{} // capture name -> its index, for the anchors
	for i, cp := range r.Captures {
		anchor[cp.Name] = i
		idx := connFindings(cp.Findings)
		for _, c := range cp.Connections {
			row := newConnRow(c, idx[c.ID])
			row.Anchor, row.CaptureIndex = fmt.Sprintf("c%d-%d", i, c.ID), i
			if ladders < MaxLadders {
				row.Ladder = ladderHTML(c, idx[c.ID], opt)
				ladders++
			}
			v.Conns = append(v.Conns, row)
		}
		v.Summary = append(v.Summary, captureSummary{
			Name: cp.Name, SNIs: head(topSNIs(cp.Connections), summaryTop),
			Servers: headS(serversByWorst(cp.Findings), summaryTop), Certs: expiring(leafCerts([]*report.Capture{cp}), 90),
		})
	}
	for _, f := range fs {
		target := f.SNI
		if target == "" {
			target = facts.Endpoint(f.Server)
		} else {
			target += " (" + facts.Endpoint(f.Server) + ")"
		}
		conn, a, ci := "", "", -1
		if i, ok := anchor[f.Capture]; ok {
			ci = i
		}
		if f.ConnID != 0 {
			conn = fmt.Sprintf("#%d", f.ConnID)
			if v.Multi {
				conn += " in " + filepath.Base(f.Capture)
			}
			if i, ok := anchor[f.Capture]; ok {
				a = fmt.Sprintf("c%d-%d", i, f.ConnID)
			}
		}
		v.Findings = append(v.Findings, findingRow{Finding: f, Target: target, Conn: conn, Anchor: a, CaptureIndex: ci})
	}
	return v
}

func cls(ok bool, c string) string {
	if ok {
		return c
	}
	return ""
}

func countSecrets(conns []*facts.Connection) int {
	n := 0
	for _, c := range conns {
		n += len(c.Secrets)
	}
	return n
}

func shortSuites(m map[string]int) []count {
	s := map[string]int{}
	for k, n := range m {
		s[report.ShortSuite(k)] += n
	}
	return sortedCounts(s)
}

// findingClass colours each finding id's bar by its severity.
func findingClass(fs []facts.Finding) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		m[f.ID] = f.Severity.String()
	}
	return m
}

func head(c []count, n int) []count {
	if len(c) > n {
		return c[:n]
	}
	return c
}

func headS(c []serverWorst, n int) []serverWorst {
	if len(c) > n {
		return c[:n]
	}
	return c
}

func expiring(l []leafCert, days int) []leafCert {
	var out []leafCert
	for _, c := range l {
		if c.Within(days) {
			out = append(out, c)
		}
	}
	return out
}

func newConnRow(c *facts.Connection, fs []facts.Finding) connRow {
	row := connRow{
		ID: c.ID, Capture: c.Capture, CaptureBase: filepath.Base(c.Capture), Client: facts.Endpoint(c.Client), Server: facts.Endpoint(c.Server),
		Findings: fs, Chain: chainView(c.Certificates), Trust: trust(c, fs),
		SNI: c.SNI(), Status: report.Status(c), WorstSev: -1, NFindings: len(fs),
		Start: c.First.UTC().Format("15:04:05.000"),
	}
	if s := c.TLS; s != nil {
		if s.Version != 0 {
			row.Version, row.VersionSort = tls.VersionName(s.Version), s.Version
		}
		if s.ServerHello != nil {
			name, _ := s.Cipher()
			row.Suite = report.ShortSuite(name)
		}
		row.ALPN = s.ALPN
		if len(c.Certificates) > 0 {
			row.Cert = certName(c.Certificates[0])
		} else if s.Hidden {
			row.Cert = "(encrypted)"
		}
		row.Established = s.Established
		row.Failed = !s.Established
	}
	switch {
	case row.Failed:
		row.StatusClass = "bad"
	case row.Established:
		row.StatusClass = "ok"
	}
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	row.FindingIDs = strings.Join(ids, " ")
	if len(fs) > 0 {
		row.WorstSev = int(fs[0].Severity)
		row.Worst = fs[0].ID
		row.WorstClass = fs[0].Severity.String()
	}
	row.ClientSort = sortAddr(c.Client.Addr().As16(), c.Client.Port())
	row.ServerSort = sortAddr(c.Server.Addr().As16(), c.Server.Port())
	return row
}

// chainView lists the certificates the server sent, leaf first.
func chainView(certs []facts.Certificate) []chainCert {
	var out []chainCert
	for i, c := range certs {
		role := "leaf"
		if i > 0 {
			role = fmt.Sprintf("intermediate %d", i)
			if c.SelfSigned {
				role = "root"
			}
		}
		sans := c.DNSNames
		for _, ip := range c.IPs {
			sans = append(slices.Clip(sans), ip.String())
		}
		out = append(out, chainCert{Certificate: c, Role: role, SANs: strings.Join(sans, ", ")})
	}
	return out
}

// trust is what the connection's certificate findings (cert-untrusted,
// cert-expired, ...) say of its chain, judged at the capture's time with
// the CA files and system roots of the run.
func trust(c *facts.Connection, fs []facts.Finding) string {
	if len(c.Certificates) == 0 {
		return ""
	}
	var ids []string
	for _, f := range fs {
		if strings.HasPrefix(f.ID, "cert-") && !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	if len(ids) == 0 {
		return "no certificate finding"
	}
	return "problems: " + strings.Join(ids, ", ")
}

// sortAddr makes an address sort in numeric order as a string.
func sortAddr(a [16]byte, port uint16) string {
	return fmt.Sprintf("%x%05d", a, port)
}

// ladderHTML draws the connection's ladder as preformatted text, with
// finding, secret and alert lines marked for colour.
func ladderHTML(c *facts.Connection, fs []facts.Finding, opt report.Options) template.HTML {
	var b bytes.Buffer
	if err := ladder.Write(&b, c, fs, ladder.Options{Width: LadderWidth, ShowSecrets: opt.ShowSecrets}); err != nil {
		return template.HTML(template.HTMLEscapeString(err.Error()))
	}
	// A block under an arrow is its details, then secrets, then findings;
	// a wrapped secret or finding continues until the next arrow.
	var out strings.Builder
	class := ""
	for l := range strings.Lines(b.String()) {
		l = strings.TrimSuffix(l, "\n")
		switch {
		case l == "" || strings.Contains(l, "|-") || strings.Contains(l, "|<"):
			class = ""
			if strings.Contains(l, " Alert fatal ") || strings.Contains(l, " Alert (encrypted)") {
				class = "la"
			}
		case strings.Contains(l, "|  ! ") || strings.HasPrefix(l, "  ! "):
			class = "l-info"
			for s := facts.Critical; s > facts.Info; s-- {
				if strings.Contains(l, " ("+s.String()+")") {
					class = "l-" + s.String()
					break
				}
			}
		case strings.Contains(l, "|  secret "):
			class = "ls"
		}
		esc := template.HTMLEscapeString(l)
		if class != "" {
			fmt.Fprintf(&out, "<span class=%s>%s</span>\n", class, esc)
		} else {
			out.WriteString(esc + "\n")
		}
		if class == "la" {
			class = ""
		}
	}
	return template.HTML(out.String())
}

var (
	rfcRef = regexp.MustCompile(`^RFC ?(\d{3,5})(?:,? (?:section |§ ?)?(\d+(?:\.\d+)*))?`)
	urlRef = regexp.MustCompile(`^https?://[^\s"<>]+$`)
)

// referenceLink turns a finding's reference into a link where it names a
// URL or an RFC (and section); other text is shown as is.
func referenceLink(ref string) template.HTML {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	esc := template.HTMLEscapeString(ref)
	if urlRef.MatchString(ref) {
		return template.HTML(fmt.Sprintf(`<a href="%s" rel="noreferrer">%s</a>`, esc, esc))
	}
	if m := rfcRef.FindStringSubmatch(ref); m != nil {
		u := "https://www.rfc-editor.org/rfc/rfc" + m[1]
		if m[2] != "" {
			u += "#section-" + m[2]
		}
		return template.HTML(fmt.Sprintf(`<a href="%s" rel="noreferrer">%s</a>`, u, esc))
	}
	return template.HTML(esc)
}
