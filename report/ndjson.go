package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// WriteNDJSON writes one JSON object per line: per capture, each
// connection followed by its HTTP requests and findings, then findings not
// tied to a connection, the capture's anomalies and its summary; the last
// line is the summary of the whole run.
func WriteNDJSON(w io.Writer, r *Result, opt Options) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, c := range r.Captures {
		idx := byConn(c.Findings)
		ids := connIDs(c)
		for _, conn := range c.Connections {
			fs := idx[conn.ID]
			if err := writeConnLines(enc, conn, fs, opt); err != nil {
				return err
			}
		}
		for _, f := range c.Findings {
			if !ids[f.ConnID] {
				if err := enc.Encode(NewFindingRecord(f)); err != nil {
					return err
				}
			}
		}
		for _, a := range c.Anomalies {
			if err := enc.Encode(NewAnomalyRecord(a)); err != nil {
				return err
			}
		}
		if err := enc.Encode(CaptureSummary(c)); err != nil {
			return err
		}
	}
	if err := enc.Encode(TotalSummary(r)); err != nil {
		return err
	}
	return bw.Flush()
}

func writeConnLines(enc *json.Encoder, conn *facts.Connection, fs []facts.Finding, opt Options) error {
	if err := enc.Encode(NewConnectionRecord(conn, fs, opt)); err != nil {
		return err
	}
	for _, m := range conn.HTTP {
		if err := enc.Encode(NewHTTPRecord(conn, m)); err != nil {
			return err
		}
	}
	for _, f := range fs {
		if err := enc.Encode(NewFindingRecord(f)); err != nil {
			return err
		}
	}
	return nil
}

// ConnectionLines renders a closed connection's NDJSON group, the lines
// WriteNDJSON writes for it: its connection record, its HTTP records and
// its findings (fs, in the order given). A streaming run renders each
// connection as it closes, then drops it.
func ConnectionLines(c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, error) {
	return AppendConnectionLines(nil, c, fs, opt)
}

// AppendConnectionLines appends ConnectionLines to dst and returns the
// extended buffer: a caller rendering many connections hands back the
// same buffer, which then stops growing.
func AppendConnectionLines(dst []byte, c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, error) {
	w := appendWriter{dst}
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	err := writeConnLines(enc, c, fs, opt)
	return w.b, err
}

// appendWriter is an io.Writer appending to a slice it owns.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// connIDs is the set of a capture's connection ids.
func connIDs(c *Capture) map[uint64]bool {
	ids := make(map[uint64]bool, len(c.Connections))
	for _, conn := range c.Connections {
		ids[conn.ID] = true
	}
	return ids
}

func allConns(r *Result) []*facts.Connection {
	var all []*facts.Connection
	for _, c := range r.Captures {
		all = append(all, c.Connections...)
	}
	return all
}
