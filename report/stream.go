package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// Stream prints records as they happen, for live capture: NDJSON lines
// (the same records as WriteNDJSON) or table rows of fixed width, each
// finding's message and evidence under its row, then a summary when the
// capture stops; or ecs events or zeek records (the
// lines WriteECS and WriteZeek write), which have no summary.
type Stream struct {
	w      io.Writer
	format string
	opt    Options
	enc    *json.Encoder
	ecs    *json.Encoder // format ecs
	zeek   *ZeekWriter   // format zeek
	buf    []byte        // lines rendered by the appenders, reused
	widths []int
	header bool
}

// NewStream starts a stream in format, one of the formats marked Live.
func NewStream(w io.Writer, format string, opt Options) (*Stream, error) {
	s := &Stream{w: w, format: format, opt: opt}
	if f, ok := LookupFormat(format); !ok || !f.Live {
		return nil, fmt.Errorf("format %s cannot stream (want %s)", format, liveNames())
	}
	switch format { // the formats table marks these four, and only these, Live
	case "ecs":
		s.ecs = json.NewEncoder(w)
		s.ecs.SetEscapeHTML(false)
	case "zeek":
		s.zeek = NewZeekWriter(w)
	case "ndjson":
		s.enc = json.NewEncoder(w)
		s.enc.SetEscapeHTML(false)
	case "table":
		width := opt.Width
		if width <= 0 {
			width = DefaultWidth
		}
		s.widths = streamWidths(width)
	}
	return s, nil
}

var streamHeaders = []string{"TIME", "SERVER", "SNI", "TLS", "SUITE", "STATUS"}

// streamWidths shares width among the stream columns, since rows are
// printed before later ones are known: TIME, TLS and STATUS are fixed,
// the server gets at least an IPv4 endpoint's 21 columns, the suite at
// least 12, the SNI the rest (at least 8: below 72 columns rows are
// wider than width). There is no WORST column: each finding is
// printed whole under its connection's row.
func streamWidths(width int) []int {
	const timeW, tlsW, statusW = 8, 3, 10
	rest := width - timeW - tlsW - statusW - colGap*5
	server := min(max(rest*30/100, 21), 47)
	suite := min(max(rest*25/100, 12), 30)
	return []int{timeW, server, max(rest-server-suite, 8), tlsW, suite, statusW}
}

// Connection prints one connection (at handshake time) and its findings.
func (s *Stream) Connection(c *facts.Connection, fs []facts.Finding) error {
	switch {
	case s.ecs != nil:
		for _, e := range ECSEvents(nil, c, fs, s.opt) {
			if err := s.ecs.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case s.zeek != nil:
		return s.zeek.Connection(c)
	}
	if s.enc != nil {
		r := NewConnectionRecord(c, fs, s.opt)
		b, ok := appendConnectionJSON(s.buf[:0], &r)
		if !ok {
			return s.enc.Encode(r) // the error encoding/json gives
		}
		fm := formatted{ep: [2]netip.AddrPort{c.Client, c.Server}, epStr: [2]string{r.Client, r.Server}, n: 2}
		s.buf = appendFindingLines(append(b, '\n'), fs, &fm)
		_, err := s.w.Write(s.buf)
		return err
	}
	if !s.header {
		s.header = true
		if err := s.row(streamHeaders); err != nil {
			return err
		}
	}
	r := connRow(c, fs)
	if err := s.row([]string{c.First.UTC().Format("15:04:05"), r[2], r[3], r[4], r[5], r[8]}); err != nil {
		return err
	}
	for _, f := range fs {
		if err := s.findingText(f); err != nil {
			return err
		}
	}
	return nil
}

// findingText prints a finding's message and evidence under its row, as
// they become known (wrapped to the width, never cut).
func (s *Stream) findingText(f facts.Finding) error {
	p := &printer{w: s.w}
	for _, l := range wrapLine("    "+f.Severity.String()+" "+f.ID+": "+oneLine(f.Message), s.opt.Width) {
		p.line(l)
	}
	if f.Evidence != "" {
		for _, l := range wrapLine("      evidence: "+oneLine(f.Evidence), s.opt.Width) {
			p.line(l)
		}
	}
	return p.err
}

// Finding prints a finding not tied to a printed connection (a secret seen
// after the handshake, say).
func (s *Stream) Finding(f facts.Finding) error {
	switch {
	case s.ecs != nil:
		return s.ecs.Encode(ecsFinding(&Result{}, f, nil))
	case s.zeek != nil:
		return nil // Zeek's ssl.log has no findings
	}
	if s.enc != nil {
		r := NewFindingRecord(f)
		s.buf = append(appendFindingJSON(s.buf[:0], &r), '\n')
		_, err := s.w.Write(s.buf)
		return err
	}
	target := f.SNI
	if target == "" {
		target = facts.Endpoint(f.Server)
	}
	if err := s.row([]string{f.Time.UTC().Format("15:04:05"), facts.Endpoint(f.Server), target, "", "", "finding"}); err != nil {
		return err
	}
	return s.findingText(f)
}

// Render appends c's group as the stream's format writes it with opt
// (ndjson: ConnectionLines; ecs: its events), for a worker to render ahead of
// Lines. It reports false when the format's lines depend on what the
// stream wrote before (zeek writes each certificate once): that
// connection then goes through Connection.
func (s *Stream) Render(dst []byte, c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, bool, error) {
	switch {
	case s.zeek != nil:
		return dst, false, nil
	case s.ecs != nil:
		buf := bytes.NewBuffer(dst)
		enc := json.NewEncoder(buf) // as WriteECS's: no HTML escaping
		enc.SetEscapeHTML(false)
		for _, e := range ECSEvents(nil, c, fs, opt) {
			if err := enc.Encode(e); err != nil {
				return dst, true, err
			}
		}
		return buf.Bytes(), true, nil
	}
	b, err := AppendConnectionLines(dst, c, fs, opt)
	return b, true, err
}

// Lines writes lines already rendered (ConnectionLines) as they are.
func (s *Stream) Lines(b []byte) error {
	_, err := s.w.Write(b)
	return err
}

// Anomaly prints an anomaly record; the table's summary counts anomalies
// instead.
func (s *Stream) Anomaly(a facts.Anomaly) error {
	if s.ecs != nil {
		return s.ecs.Encode(ecsAnomalyEvent(a))
	}
	if s.enc == nil {
		return nil
	}
	return s.enc.Encode(NewAnomalyRecord(a))
}

// CaptureSummary prints one capture's summary record when the stream goes
// on to another capture; the table prints one summary at the end.
func (s *Stream) CaptureSummary(c *Capture) error {
	if s.enc == nil {
		return nil
	}
	return s.enc.Encode(CaptureSummary(c))
}

// Summary ends the stream: the summary record, or the table's summary.
func (s *Stream) Summary(r *Result) error {
	if s.ecs != nil || s.zeek != nil {
		return nil // logs without a summary record
	}
	if s.enc != nil {
		return s.enc.Encode(TotalSummary(r))
	}
	p := &printer{w: s.w}
	p.line("")
	p.line("Summary")
	for _, l := range summaryLines(r, s.opt.Width) {
		p.line(l)
	}
	return p.err
}

// row prints cells in the stream's fixed columns. The server and SNI are
// never cut: one wider than its column pushes the rest of the row right
// (the next columns take the excess back from their padding, keeping one
// space).
func (s *Stream) row(cells []string) error {
	var b strings.Builder
	over := 0
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		c = printable(c)
		if i != 1 && i != 2 {
			c = truncate(c, s.widths[i])
		}
		b.WriteString(c)
		if i < len(cells)-1 {
			pad := s.widths[i] - textWidth(c) + colGap - over
			over = max(1-pad, 0)
			b.WriteString(strings.Repeat(" ", max(pad, 1)))
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(s.w, b.String())
	return err
}
