package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tlsscope/tlsscope/decode/rules"
)

// ruleJSON is one finding id in `tlsscope rules --format json`.
type ruleJSON struct {
	ID        string `json:"id"`
	Severity  string `json:"severity"`
	Title     string `json:"title"`
	Help      string `json:"help"`
	Reference string `json:"reference,omitempty"`
	Policy    bool   `json:"policy"` // reported only with a --policy file
}

// WriteRules lists every finding id (`tlsscope rules`): id, default
// severity, title and reference as a table, or with asJSON one JSON array
// of objects that also carry the help text.
func WriteRules(w io.Writer, defs []rules.Definition, asJSON bool) error {
	if asJSON {
		out := make([]ruleJSON, 0, len(defs))
		for _, d := range defs {
			out = append(out, ruleJSON{d.ID, d.Severity.String(), d.Title, d.Help, d.Reference, d.Policy})
		}
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE\tREFERENCE")
	for _, d := range defs {
		ref := d.Reference
		if d.Policy {
			ref = "(with --policy)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, d.Severity, d.Title, ref)
	}
	return tw.Flush()
}
