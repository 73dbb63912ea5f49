package report

import (
	"bufio"
	"encoding/json"
	"io"
	"net/netip"

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
	var buf []byte
	for _, c := range r.Captures {
		idx := byConn(c.Findings)
		ids := connIDs(c)
		for _, conn := range c.Connections {
			var err error
			if buf, err = AppendConnectionLines(buf[:0], conn, idx[conn.ID], opt); err != nil {
				return err
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		for _, f := range c.Findings {
			if !ids[f.ConnID] {
				buf = appendFindingLines(buf[:0], []facts.Finding{f}, &formatted{})
				if _, err := bw.Write(buf); err != nil {
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

// ConnectionLines renders a closed connection's NDJSON group, the lines
// WriteNDJSON writes for it: its connection record, its HTTP records and
// its findings (fs, in the order given). A streaming run renders each
// connection as it closes, then drops it.
func ConnectionLines(c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, error) {
	// A TLS connection's line is 1 to 3 KiB: start there rather than
	// grow from nothing.
	return AppendConnectionLines(make([]byte, 0, 4<<10), c, fs, opt)
}

// AppendConnectionLines appends ConnectionLines to dst and returns the
// extended buffer: a caller rendering many connections hands back the
// same buffer, which then stops growing. The lines are those
// encoding/json writes (see jsonappend.go); on error dst is returned as
// given.
func AppendConnectionLines(dst []byte, c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, error) {
	r := NewConnectionRecord(c, fs, opt)
	b, ok := appendConnectionJSON(dst, &r)
	if !ok {
		_, err := json.Marshal(r) // the error encoding/json gives
		return dst, err
	}
	b = append(b, '\n')
	fm := formatted{ep: [2]netip.AddrPort{c.Client, c.Server}, epStr: [2]string{r.Client, r.Server}, n: 2}
	for _, m := range c.HTTP {
		h := newHTTPRecord(c, m, &fm)
		b = appendHTTPJSON(b, &h)
		b = append(b, '\n')
	}
	return appendFindingLines(b, fs, &fm), nil
}

// appendFindingLines appends one finding record per line.
func appendFindingLines(b []byte, fs []facts.Finding, fm *formatted) []byte {
	for _, f := range fs {
		r := newFindingRecord(f, fm)
		b = appendFindingJSON(b, &r)
		b = append(b, '\n')
	}
	return b
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
