package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// DefaultWidth is the width the table format fits when none is given.
const DefaultWidth = 80

// column describes one table column: its header, the narrowest it may be
// squeezed to, how a long value is cut, and whether it may be dropped when
// even the narrowest layout does not fit.
type column struct {
	header   string
	min      int
	cut      func(string, int) string
	optional int // 0: always shown; n: dropped n-th when too narrow
}

const colGap = 2 // spaces between columns

// fit chooses column widths so the table fits width: columns start at their
// natural width and the widest shrinkable column loses one rune at a time
// until the table fits or every column is at its readable minimum; then
// optional columns are dropped in order, and when none is left columns go
// below their minimums (to 3 runes). Cells are cut with their column's
// cutter. Every table fits any width from 40 columns up.
func fit(cols []column, rows [][]string, width int) ([]column, [][]string) {
	for _, r := range rows {
		for j := range r {
			r[j] = printable(r[j])
		}
	}
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	for {
		var cs []column
		var idx []int
		for i, c := range cols {
			if keep[i] {
				cs = append(cs, c)
				idx = append(idx, i)
			}
		}
		w := make([]int, len(cs))
		for j, c := range cs {
			w[j] = textWidth(c.header)
			for _, r := range rows {
				w[j] = max(w[j], textWidth(r[idx[j]]))
			}
		}
		total := func() int {
			t := colGap * (len(w) - 1)
			for _, x := range w {
				t += x
			}
			return t
		}
		shrink := func(floor func(j int) int) {
			for total() > width {
				best := -1
				for j := range w {
					if w[j] > floor(j) && (best < 0 || w[j] > w[best]) {
						best = j
					}
				}
				if best < 0 {
					return
				}
				w[best]--
			}
		}
		shrink(func(j int) int { return max(cs[j].min, 1) })
		if total() > width {
			drop, order := -1, 0
			for j, c := range cs {
				if c.optional > 0 && (drop < 0 || c.optional < order) {
					drop, order = idx[j], c.optional
				}
			}
			if drop >= 0 {
				keep[drop] = false
				continue
			}
			// Nothing left to drop: go below the readable minimums.
			shrink(func(int) int { return 3 })
		}
		out := make([][]string, len(rows))
		for k, r := range rows {
			out[k] = make([]string, len(cs))
			for j, c := range cs {
				cut := c.cut
				if cut == nil {
					cut = truncate
				}
				out[k][j] = cut(r[idx[j]], w[j])
			}
		}
		for j := range cs {
			cs[j].header = truncate(cs[j].header, w[j])
		}
		return cs, out
	}
}

// renderTable draws a borderless table with a rule under the header and
// strips trailing blanks.
func renderTable(w io.Writer, cols []column, rows [][]string) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleASCII),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.On},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Right: strings.Repeat(" ", colGap), Overwrite: true}),
		tablewriter.WithAlignment(tw.Alignment{tw.AlignLeft}),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	hdr := make([]any, len(cols))
	for i, c := range cols {
		hdr[i] = c.header
	}
	t.Header(hdr...)
	for _, r := range rows {
		cells := make([]any, len(r))
		for i, c := range r {
			if c == "" {
				c = "-"
			}
			cells[i] = c
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimRight(line, " \n")
		if line != "" && strings.Trim(line, "-") == "" {
			// The header rule spans the last column's padding too.
			line = ruleLine(cols, rows)
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// ruleLine is the line under the header, as wide as the table.
func ruleLine(cols []column, rows [][]string) string {
	n := colGap * (len(cols) - 1)
	for j, c := range cols {
		wj := textWidth(c.header)
		for _, r := range rows {
			wj = max(wj, textWidth(r[j]))
		}
		n += wj
	}
	return strings.Repeat("-", n)
}

// WriteTable writes the human report: connections per capture, findings
// most severe first, fingerprints and a summary, fitted to opt.Width
// columns (80 when unset; see fit for how columns shrink).
func WriteTable(w io.Writer, r *Result, opt Options) error {
	width := opt.Width
	if width <= 0 {
		width = DefaultWidth
	}
	p := &printer{w: w}
	for _, c := range r.Captures {
		p.heading(fmt.Sprintf("%s: %s", c.Name, plural(len(c.Connections), "connection")), width)
		if len(c.Connections) > 0 {
			cols, rows := fit(connColumns, connRows(c), width)
			p.table(cols, rows)
		}
		p.line("")
	}
	fs := r.Findings()
	p.heading(fmt.Sprintf("Findings: %d", len(fs)), width)
	// A finding's message and evidence are what a reader needs whole, and
	// they do not fit table cells at 80 columns: each finding is a heading
	// line (severity, id, where) and its text wrapped beneath it.
	for _, row := range findingRows(fs) {
		p.line(truncate(fmt.Sprintf("%-8s  %s  %s", row[0], row[1], row[2]), width))
		for _, l := range wrap(row[3], width-4) {
			p.line("    " + l)
		}
		if row[4] != "" {
			for _, l := range wrap("evidence: "+row[4], width-4) {
				p.line("    " + l)
			}
		}
	}
	p.line("")
	fps := fingerprintRows(r)
	if len(fps) > 0 {
		p.heading(fmt.Sprintf("Fingerprints: %d distinct JA4", len(fps)), width)
		cols, rows := fit(fingerprintColumns, fps, width)
		p.table(cols, rows)
		p.line("")
	}
	p.heading("Summary", width)
	for _, l := range summaryLines(r, width) {
		p.line(l)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, printable(s)+"\n")
	}
}

func (p *printer) heading(s string, width int) { p.line(truncateMiddle(s, width)) }

func (p *printer) table(cols []column, rows [][]string) {
	if p.err == nil {
		p.err = renderTable(p.w, cols, rows)
	}
}

// At 80 columns not every connection column fits at a readable width:
// ALPN goes first, then the client, then the certificate subject (their
// values stay in every other format).
var connColumns = []column{
	{header: "CLIENT", min: 12, cut: truncateClient, optional: 2},
	{header: "SERVER", min: 15, cut: truncateEndpoint},
	{header: "SNI", min: 10, cut: truncateMiddle},
	{header: "TLS", min: 3},
	{header: "SUITE", min: 12},
	{header: "ALPN", min: 4, optional: 1},
	{header: "CERT", min: 10, optional: 3},
	{header: "STATUS", min: 10},
	{header: "WORST", min: 12},
}

func connRows(c *Capture) [][]string {
	idx := byConn(c.Findings)
	var rows [][]string
	for _, conn := range c.Connections {
		rows = append(rows, connRow(conn, idx[conn.ID]))
	}
	return rows
}

func connRow(c *facts.Connection, fs []facts.Finding) []string {
	var version, suite, alpn, cert string
	if s := c.TLS; s != nil {
		if s.Version != 0 {
			version = strings.TrimPrefix(versionName(s.Version), "TLS ")
		}
		if s.ServerHello != nil {
			name, _ := s.Cipher()
			suite = ShortSuite(name)
		}
		if c.Transport == facts.QUIC {
			version += "/quic" // the TLS of a QUIC connection
		}
		alpn = s.ALPN
		if len(c.Certificates) > 0 {
			cert = commonName(c.Certificates[0])
		} else if s.Hidden && s.EncryptedExtensions == nil {
			// TLS 1.3 whose server flight was not decrypted (with it, no
			// certificate means none was sent: a PSK resumption).
			cert = "(encrypted)"
			if s.Decryption.Status == tls.DecryptNoKey {
				cert = "(no key)"
			}
		}
	}
	worst := ""
	if len(fs) > 0 {
		top := slices.Clone(fs)
		SortFindings(top)
		worst = top[0].Severity.String() + " " + top[0].ID
	}
	return []string{facts.Endpoint(c.Client), facts.Endpoint(c.Server), c.SNI(), version, suite, alpn, cert, Status(c), worst}
}

// Status is a connection's outcome in a word or two: its handshake's
// facts.Outcome ("ok", "resumed", "closed", "no reply", "incomplete",
// "mid-stream"), "alert <description>" (or "alert (encrypted)") for a
// fatal alert, or the cleartext protocol name. A TLS 1.3 handshake that a
// key log was given for and did not open reads "ok, no-key" (or partial,
// failed, unsupported-suite).
func Status(c *facts.Connection) string {
	o := c.HandshakeOutcome()
	switch o {
	case facts.OutcomeNone:
		if c.Protocol != "" {
			return c.Protocol
		}
		return "unknown"
	case facts.OutcomeOK, facts.OutcomeResumed:
		st, s := o.String(), c.TLS
		if d := s.Decryption.Status; d != "" && d != tls.DecryptOK && s.Hidden && s.EncryptedExtensions == nil {
			// A key log was given and did not open this TLS 1.3
			// handshake: nothing of it was checked.
			st += ", " + d
		}
		return st
	case facts.OutcomeAlert:
		if a, _ := c.FatalAlert(); !a.Encrypted {
			return "alert " + alertName(a.Description)
		}
		return "alert (encrypted)"
	}
	return o.String()
}

func findingRows(fs []facts.Finding) [][]string {
	var rows [][]string
	for _, f := range fs {
		target := f.SNI
		if target == "" {
			target = facts.Endpoint(f.Server)
		}
		rows = append(rows, []string{f.Severity.String(), f.ID, target, oneLine(f.Message), oneLine(f.Evidence)})
	}
	return rows
}

// wrap breaks text into lines of at most width runes at spaces (a word
// longer than width gets a line of its own, cut).
func wrap(text string, width int) []string {
	width = max(width, 20)
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wn := utf8.RuneCountInString(w)
		if n > 0 && n+1+wn > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		if wn > width {
			w = truncate(w, width)
			wn = width
		}
		cur.WriteString(w)
		n += wn
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var fingerprintColumns = []column{
	{header: "JA4", min: 36},
	{header: "N", min: 1},
	{header: "SNIS", min: 6},
	{header: "JA3", min: 8, optional: 2},
	{header: "CLIENT", min: 6, optional: 1},
}

// fingerprintRows lists each distinct JA4: how many connections, the SNIs
// they asked for, their JA3s and the known-client label; most common first.
func fingerprintRows(r *Result) [][]string {
	type agg struct {
		ja4   string
		n     int
		snis  []string
		ja3s  []string
		label string
	}
	m := map[string]*agg{}
	for _, c := range allConns(r) {
		fp := c.Fingerprints
		if fp.JA4 == "" {
			continue
		}
		a := m[fp.JA4]
		if a == nil {
			a = &agg{ja4: fp.JA4, label: knownClient(fp.JA4)}
			m[fp.JA4] = a
		}
		a.n++
		if sni := c.SNI(); sni != "" && !slices.Contains(a.snis, sni) {
			a.snis = append(a.snis, sni)
		}
		if fp.JA3 != "" && !slices.Contains(a.ja3s, fp.JA3) {
			a.ja3s = append(a.ja3s, fp.JA3)
		}
	}
	var list []*agg
	for _, a := range m {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b *agg) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.ja4, b.ja4)
	})
	var rows [][]string
	for _, a := range list {
		slices.Sort(a.snis)
		rows = append(rows, []string{a.ja4, fmt.Sprint(a.n), moreList(a.snis, 2), moreList(a.ja3s, 1), a.label})
	}
	return rows
}

// moreList shows the first n items and how many more there are.
func moreList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(items[:n], ","), len(items)-n)
}

func countList(m map[string]int) []string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	slices.SortFunc(l, func(a, b kv) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	var out []string
	for _, e := range l {
		out = append(out, fmt.Sprintf("%s: %d", e.k, e.n))
	}
	return out
}

func summaryLines(r *Result, width int) []string {
	st := r.Totals()
	total := r.Counts()
	hs := total.Handshakes
	var lines []string
	add := func(key string, items ...string) {
		if len(items) == 0 {
			items = []string{"none"}
		}
		lines = append(lines, wrapItems(fmt.Sprintf("  %-12s", key), items, width)...)
	}
	var names []string
	for _, c := range r.Captures {
		names = append(names, c.Name)
	}
	add("captures", names...)
	if len(r.Captures) > 1 {
		// One line per capture, its name cut in the middle to fit.
		for _, c := range r.Captures {
			t := c.Counts()
			tail := fmt.Sprintf(": %d conn, %d ok, %d failed, %s", t.Connections, t.Handshakes.Complete, t.Handshakes.Failed, plural(t.FindingCount(), "finding"))
			indent := strings.Repeat(" ", 14)
			name := truncateMiddle(printable(c.Name), max(8, width-len(indent)-len(tail)))
			lines = append(lines, truncate(indent+name+tail, width))
		}
	}
	add("packets", fmt.Sprintf("%d (%s)", st.Packets, ByteSize(st.Bytes)))
	if !st.First.IsZero() {
		add("span", fmt.Sprintf("%s to %s (%s)", st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339), span(st).Round(time.Millisecond)))
	}
	add("connections", fmt.Sprintf("%d", total.Connections), fmt.Sprintf("TLS %d", hs.TLS),
		fmt.Sprintf("complete %d", hs.Complete), fmt.Sprintf("failed %d", hs.Failed),
		fmt.Sprintf("not judged %d", hs.TLS-hs.Complete-hs.Failed))
	add("versions", countList(hs.Versions)...)
	suites := map[string]int{}
	for k, n := range hs.Suites {
		suites[ShortSuite(k)] += n
	}
	add("suites", countList(suites)...)
	if len(hs.Decryption) > 0 {
		add("decryption", countList(hs.Decryption)...)
	}
	var sev []string
	for s := facts.Critical; ; s-- {
		if n := total.Findings[s]; n > 0 {
			sev = append(sev, fmt.Sprintf("%s: %d", s, n))
		}
		if s == facts.Info {
			break
		}
	}
	add("findings", sev...)
	if len(total.Suppressed) > 0 {
		add("suppressed", countList(total.Suppressed)...)
	}
	add("anomalies", fmt.Sprintf("gaps: %d", st.Gaps), fmt.Sprintf("truncated packets: %d", st.Truncated),
		fmt.Sprintf("evicted flows: %d", st.Evicted))
	anomalies := map[string]int{}
	for k, n := range st.Anomalies {
		anomalies[k] = int(n)
	}
	if len(anomalies) > 0 {
		add("", countList(anomalies)...)
	}
	if st.Filtered > 0 || st.NonIP > 0 || st.NonTCP > 0 {
		add("skipped", fmt.Sprintf("filtered: %d", st.Filtered), fmt.Sprintf("non-IP: %d", st.NonIP), fmt.Sprintf("non-TCP: %d", st.NonTCP))
	}
	if st.KernelReceived > 0 || st.KernelDropped > 0 {
		add("kernel", fmt.Sprintf("received: %d", st.KernelReceived), fmt.Sprintf("dropped: %d", st.KernelDropped))
	}
	return lines
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
