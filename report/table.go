package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// DefaultWidth is the width the table format fits on a terminal that does
// not say how wide it is.
const DefaultWidth = 80

// column describes one table column: its header, the narrowest it may be
// squeezed to, how a long value is cut (nil: never), and when and how it
// gives way if the table does not fit: dropped, or folded onto lines of
// their own under each row ("    sni: ...").
type column struct {
	header   string
	min      int
	cut      func(string, int) string
	optional int  // 0: always in the grid; n: gives way n-th
	fold     bool // gives way by folding rather than being dropped
}

const colGap = 2 // spaces between columns

// table is a fitted table: the columns that stay in the grid, the rows'
// cells for them, and per row the folded columns' lines.
type table struct {
	cols  []column
	rows  [][]string
	folds [][]string
}

// fit lays the table out in width columns (0: no limit, every value
// whole). Columns start at their natural width and the widest cuttable
// column loses one column at a time until the table fits or every
// cuttable column is at its minimum; then columns give way in their
// order, dropped or folded, and once it fits, those that gave way come
// back, the last first, while it still fits. Addresses, SNIs, ids and
// fingerprints are never cut, so every value stays whole; a line is
// wider than width only when one value alone is.
func fit(cols []column, rows [][]string, width int) table {
	for _, r := range rows {
		for j := range r {
			r[j] = printable(r[j])
		}
	}
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	// layout is the widths of the kept columns, the cuttable ones
	// shrunk towards their minimum until the total fits.
	layout := func() (w []int, fits bool) {
		w = make([]int, len(cols))
		total := -colGap
		for i, c := range cols {
			if keep[i] {
				w[i] = textWidth(c.header)
				for _, r := range rows {
					w[i] = max(w[i], textWidth(r[i]))
				}
				total += w[i] + colGap
			}
		}
		for width > 0 && total > width {
			best := -1
			for i, c := range cols {
				if keep[i] && c.cut != nil && w[i] > max(c.min, 1) && (best < 0 || w[i] > w[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			w[best]--
			total--
		}
		return w, width <= 0 || total <= width
	}
	var gave []int
	w, fits := layout()
	for !fits {
		give := -1
		for i, c := range cols {
			if keep[i] && c.optional > 0 && (give < 0 || c.optional < cols[give].optional) {
				give = i
			}
		}
		if give < 0 {
			break
		}
		keep[give] = false
		gave = append(gave, give)
		w, fits = layout()
	}
	if fits {
		for k := len(gave) - 2; k >= 0; k-- { // the last to give way stays out
			keep[gave[k]] = true
			if nw, ok := layout(); ok {
				w = nw
			} else {
				keep[gave[k]] = false
			}
		}
	}
	t := table{rows: make([][]string, len(rows)), folds: make([][]string, len(rows))}
	for i, c := range cols {
		if keep[i] {
			t.cols = append(t.cols, c)
		}
	}
	for k, r := range rows {
		for i, c := range cols {
			switch {
			case keep[i] && c.cut != nil:
				t.rows[k] = append(t.rows[k], c.cut(r[i], w[i]))
			case keep[i]:
				t.rows[k] = append(t.rows[k], r[i])
			case c.fold && r[i] != "":
				t.folds[k] = append(t.folds[k], wrap(strings.ToLower(c.header)+": "+r[i], width-4)...)
			}
		}
	}
	return t
}

// renderTable draws a borderless table with a rule under the header and
// strips trailing blanks.
func renderTable(w io.Writer, tb table) error {
	cols, rows := tb.cols, tb.rows
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
	i := 0 // lines: the header, its rule, then one per row
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimRight(line, " \n")
		if line != "" && strings.Trim(line, "-") == "" {
			// The header rule spans the last column's padding too.
			line = ruleLine(cols, rows)
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
		if k := i - 2; k >= 0 && k < len(tb.folds) {
			for _, f := range tb.folds[k] {
				if _, err := io.WriteString(w, "    "+f+"\n"); err != nil {
					return err
				}
			}
		}
		i++
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
// columns (0: no limit, every value whole; see fit for how columns give
// way). Findings name their connection (#id, the table's ID column) and,
// when the run read several captures, the capture.
func WriteTable(w io.Writer, r *Result, opt Options) error {
	width := opt.Width
	p := &printer{w: w}
	for _, c := range r.Captures {
		for _, l := range wrap(fmt.Sprintf("%s: %s", printable(c.Name), plural(len(c.Connections), "connection")), width) {
			p.line(l)
		}
		if len(c.Connections) > 0 {
			p.table(fit(connColumns, connRows(c), width))
		}
		p.line("")
	}
	fs := r.Findings()
	heading := fmt.Sprintf("Findings: %d", len(fs))
	if n := sum(r.Counts().Suppressed); n > 0 {
		heading += fmt.Sprintf(" (%d suppressed by the policy)", n)
	}
	p.line(heading)
	// A finding's message and evidence are what a reader needs whole, and
	// they do not fit table cells at 80 columns: each finding is a heading
	// line (severity, id, where) and its text wrapped beneath it.
	for _, f := range fs {
		for _, l := range findingLines(f, len(r.Captures) > 1, width) {
			p.line(l)
		}
	}
	p.line("")
	fps := fingerprintRows(r)
	if len(fps) > 0 {
		p.line(fmt.Sprintf("Fingerprints: %d distinct JA4", len(fps)))
		p.table(fit(fingerprintColumns, fps, width))
		p.line("")
	}
	p.line("Summary")
	for _, l := range summaryLines(r, width) {
		p.line(l)
	}
	return p.err
}

// findingLines is one finding as the table lists it: a heading (severity,
// id, server, "#id", and "in CAPTURE" when withCapture), then its message
// and evidence wrapped to width (0: one line each) and indented. The
// heading is never cut: what does not fit beside the id goes on the next
// line.
func findingLines(f facts.Finding, withCapture bool, width int) []string {
	target := f.SNI
	if target == "" {
		target = facts.Endpoint(f.Server)
	}
	where := fmt.Sprintf("#%d", f.ConnID)
	if target != "" {
		where = target + "  " + where
	}
	if withCapture && f.Capture != "" {
		where += " in " + f.Capture
	}
	// Wrapped as printed: printable turns control characters and invalid
	// UTF-8 into "?" and format characters into "[U+...]", which changes
	// the width.
	where = printable(where)
	head := printable(fmt.Sprintf("%-8s  %s", f.Severity, f.ID))
	var lines []string
	if width > 0 && textWidth(head+"  "+where) > width {
		lines = append(lines, head)
		for _, l := range wrap(where, width-4) {
			lines = append(lines, "    "+l)
		}
	} else {
		lines = append(lines, head+"  "+where)
	}
	for _, text := range []string{printable(oneLine(f.Message)), "evidence: " + printable(oneLine(f.Evidence))} {
		if text == "evidence: " {
			continue
		}
		for _, l := range wrap(text, width-4) {
			lines = append(lines, "    "+l)
		}
	}
	return lines
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

func (p *printer) table(t table) {
	if p.err == nil {
		p.err = renderTable(p.w, t)
	}
}

// At 80 columns not every connection column fits: the suite, certificate
// subject and status are cut first; then ALPN goes, then the client and
// the certificate subject (their values stay in every other format); the
// worst finding folds onto a line under its row; the suite and status
// go; last the SNI and the server fold. The id, addresses, SNI and worst
// finding are never cut: the id is what --ladder '#N' and the findings
// name.
var connColumns = []column{
	{header: "ID"},
	{header: "CLIENT", optional: 2},
	{header: "SERVER", optional: 8, fold: true},
	{header: "SNI", optional: 7, fold: true},
	{header: "TLS"},
	{header: "SUITE", min: 12, cut: truncate, optional: 5},
	{header: "ALPN", min: 4, cut: truncate, optional: 1},
	{header: "CERT", min: 10, cut: truncate, optional: 3},
	{header: "STATUS", min: 10, cut: truncate, optional: 6},
	{header: "WORST", optional: 4, fold: true},
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
	return []string{fmt.Sprintf("#%d", c.ID), facts.Endpoint(c.Client), facts.Endpoint(c.Server), c.SNI(), version, suite, alpn, cert, Status(c), worst}
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

// wrap breaks text into lines of at most width columns at spaces (width
// <= 0: one line); a word longer than width gets a line of its own,
// whole.
func wrap(text string, width int) []string {
	if width <= 0 {
		if text == "" {
			return nil
		}
		return []string{text}
	}
	width = max(width, 20)
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wn := textWidth(w)
		if n > 0 && n+1+wn > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wn
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// wrapLine fits one indented line to width (0: no limit), wrapping it at
// spaces with its continuation lines indented two more; a word is never
// cut.
func wrapLine(line string, width int) []string {
	if width <= 0 || textWidth(line) <= width {
		return []string{line}
	}
	body := strings.TrimLeft(line, " ")
	lead := line[:len(line)-len(body)]
	lines := wrap(body, width-len(lead)-2)
	for i := range lines {
		if i == 0 {
			lines[i] = lead + lines[i]
		} else {
			lines[i] = lead + "  " + lines[i]
		}
	}
	return lines
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var fingerprintColumns = []column{
	{header: "JA4"},
	{header: "N"},
	{header: "SNIS", optional: 3, fold: true},
	{header: "JA3", min: 8, cut: truncate, optional: 2},
	{header: "CLIENT", min: 6, cut: truncate, optional: 1},
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
		// what snis and ja3s hold: one look-up each, so one client with
		// 300k SNIs is a linear pass, not a quadratic one
		hasSNI, hasJA3 map[string]bool
	}
	m := map[string]*agg{}
	for _, c := range allConns(r) {
		fp := c.Fingerprints
		if fp.JA4 == "" {
			continue
		}
		a := m[fp.JA4]
		if a == nil {
			a = &agg{ja4: fp.JA4, label: knownClient(fp.JA4), hasSNI: map[string]bool{}, hasJA3: map[string]bool{}}
			m[fp.JA4] = a
		}
		a.n++
		if sni := c.SNI(); sni != "" && !a.hasSNI[sni] {
			a.hasSNI[sni] = true
			a.snis = append(a.snis, sni)
		}
		if fp.JA3 != "" && !a.hasJA3[fp.JA3] {
			a.hasJA3[fp.JA3] = true
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
	if len(r.Captures) == 1 {
		add("captures", r.Captures[0].Name)
	} else {
		// One line per capture, its name whole: what does not fit
		// beside it goes on the next line.
		add("captures", fmt.Sprint(len(r.Captures)))
		indent := strings.Repeat(" ", 14)
		for _, c := range r.Captures {
			t := c.Counts()
			name := printable(c.Name)
			tail := fmt.Sprintf("%d conn, %d ok, %d failed, %s", t.Connections, t.Handshakes.Complete, t.Handshakes.Failed, plural(t.FindingCount(), "finding"))
			if width > 0 && textWidth(indent+name+": "+tail) > width {
				lines = append(lines, wrapLine(indent+name+":", width)...)
				lines = append(lines, wrapLine(indent+"  "+tail, width)...)
				continue
			}
			lines = append(lines, indent+name+": "+tail)
		}
	}
	add("packets", fmt.Sprintf("%d (%s)", st.Packets, ByteSize(st.Bytes)))
	if !st.First.IsZero() {
		add("span", fmt.Sprintf("%s to %s (%s)", st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339), HumanDuration(span(st))))
	}
	add("connections", fmt.Sprintf("%d", total.Connections), fmt.Sprintf("TLS %d", hs.TLS),
		fmt.Sprintf("complete %d", hs.Complete), fmt.Sprintf("failed %d", hs.Failed),
		fmt.Sprintf("not judged %d", hs.TLS-hs.Complete-hs.Failed))
	if len(hs.Versions) > 0 {
		add("versions", countList(hs.Versions)...)
	}
	suites := map[string]int{}
	for k, n := range hs.Suites {
		suites[ShortSuite(k)] += n
	}
	if len(suites) > 0 {
		add("suites", countList(suites)...)
	}
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

func sum(m map[string]int) int {
	n := 0
	for _, k := range m {
		n += k
	}
	return n
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
