package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// CSVHeader is the first row of the csv format: one row per finding.
var CSVHeader = []string{"capture", "connection", "time", "severity", "id", "client", "server", "sni", "message", "evidence", "reference"}

// WriteCSV writes one row per finding, most severe first.
func WriteCSV(w io.Writer, r *Result, _ Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, f := range r.Findings() {
		row := []string{
			f.Capture, strconv.FormatUint(f.ConnID, 10), ts(f.Time), f.Severity.String(), f.ID,
			facts.Endpoint(f.Client), facts.Endpoint(f.Server), csvSafe(f.SNI), csvSafe(f.Message), csvSafe(f.Evidence), f.Reference,
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell taken from traffic as a
// formula (CWE-1236).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
