package report

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// CSVHeader is the first row of the csv format: one row per finding.
// transport is the finding's connection's ("tcp", "quic"; "" when the
// result does not hold the connection); it was added last, so that
// readers of the earlier columns by position are unaffected. When a key
// log was given (some connection has a decryption status) one more last
// column, "decryption", gives the status of the finding's connection;
// without one the format is as it was.
var CSVHeader = []string{"capture", "connection", "time", "severity", "id", "client", "server", "sni", "message", "evidence", "reference", "transport"}

// WriteCSV writes one row per finding, most severe first.
func WriteCSV(w io.Writer, r *Result, _ Options) error {
	cw := csv.NewWriter(w)
	dec := decryptionStatuses(r)
	header := CSVHeader
	if dec != nil {
		header = append(slices.Clone(CSVHeader), "decryption")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	transport := map[connKey]string{}
	for _, c := range r.Captures {
		for _, conn := range c.Connections {
			transport[connKey{c.Name, conn.ID}] = conn.Transport.String()
		}
	}
	for _, f := range r.Findings() {
		row := []string{
			f.Capture, strconv.FormatUint(f.ConnID, 10), ts(f.Time), f.Severity.String(), f.ID,
			facts.Endpoint(f.Client), facts.Endpoint(f.Server), f.SNI, f.Message, f.Evidence, f.Reference,
			transport[connKey{f.Capture, f.ConnID}],
		}
		for i, cell := range row {
			row[i] = csvSafe(cell)
		}
		if dec != nil {
			row = append(row, dec[connKey{f.Capture, f.ConnID}])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type connKey struct {
	capture string
	id      uint64
}

// decryptionStatuses maps each connection with a decryption status to it;
// nil when none has one (no key log was given).
func decryptionStatuses(r *Result) map[connKey]string {
	var m map[connKey]string
	for _, c := range r.Captures {
		for _, conn := range c.Connections {
			if conn.TLS == nil || conn.TLS.Decryption.Status == "" {
				continue
			}
			if m == nil {
				m = map[connKey]string{}
			}
			m[connKey{c.Name, conn.ID}] = conn.TLS.Decryption.Status
		}
	}
	return m
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CWE-1236;
// OWASP's rule: a cell that begins with = + - @ tab or carriage return
// gets a leading quote), and a terminal or editor from acting on it: every
// cell, the capture's file name too, since any of them may come from
// traffic or from whoever named the file. Control characters and invalid
// UTF-8 become "?" and format characters are escaped (Printable), after
// the formula check, so "\t=1+1" is quoted too.
func csvSafe(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		s = "'" + s
	}
	return Printable(s)
}
