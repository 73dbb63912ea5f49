package ladder

import (
	"errors"
	"fmt"
	"io"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// ErrNoMatch is WriteResult's error when the query selects no connection.
var ErrNoMatch = errors.New("no connection matches")

// WriteResult draws the ladder of every connection of r that query
// selects (see Select), one after the other, each with its findings. A
// bad query is Select's error; one that selects nothing is ErrNoMatch.
func WriteResult(w io.Writer, r *report.Result, query string, opt Options) error {
	var conns []*facts.Connection
	byConn := map[uint64][]facts.Finding{}
	for _, c := range r.Captures {
		conns = append(conns, c.Connections...)
		for _, f := range c.Findings {
			byConn[f.ConnID] = append(byConn[f.ConnID], f)
		}
	}
	sel, err := Select(conns, query)
	if err != nil {
		return err
	}
	if len(sel) == 0 {
		return ErrNoMatch
	}
	for i, c := range sel {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := Write(w, c, byConn[c.ID], opt); err != nil {
			return fmt.Errorf("writing the ladder: %w", err)
		}
	}
	return nil
}
