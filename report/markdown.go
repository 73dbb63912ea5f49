package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// maxMarkdownRows keeps a PR comment under the size limits of forges
// (GitHub: 65536 characters per comment).
const maxMarkdownRows = 100

// WriteMarkdown writes a report for a pull-request comment or a CI job
// summary: the summary, the findings and the connections.
func WriteMarkdown(w io.Writer, r *Result, opt Options) error {
	p := &printer{w: w}
	fs := r.Findings()
	p.line(fmt.Sprintf("## %s report", toolName(r)))
	p.line("")
	for _, l := range summaryLines(r, 1<<20) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		p.line(fmt.Sprintf("- **%s** %s", k, mdEscape(strings.TrimSpace(v))))
	}
	p.line("")
	p.line(fmt.Sprintf("### Findings (%d)", len(fs)))
	p.line("")
	if len(fs) == 0 {
		p.line("No findings.")
	} else {
		p.line("| Severity | ID | Server | Message | Evidence |")
		p.line("|---|---|---|---|---|")
		for i, f := range fs {
			if i == maxMarkdownRows {
				p.line(fmt.Sprintf("\n%d more findings not shown.", len(fs)-i))
				break
			}
			target := facts.Endpoint(f.Server)
			if f.SNI != "" {
				target = f.SNI + " (" + target + ")"
			}
			p.line(fmt.Sprintf("| %s | `%s` | %s | %s | %s |", f.Severity, f.ID, mdEscape(target), mdEscape(f.Message), mdCode(f.Evidence)))
		}
	}
	for _, c := range r.Captures {
		p.line("")
		p.line(fmt.Sprintf("### Connections in %s (%d)", mdEscape(c.Name), len(c.Connections)))
		p.line("")
		if len(c.Connections) == 0 {
			continue
		}
		p.line("| ID | Client | Server | SNI | Version | Suite | ALPN | Certificate | Status | Worst finding |")
		p.line("|---|---|---|---|---|---|---|---|---|---|")
		rows := connRows(c)
		for i, row := range rows {
			if s := c.Connections[i].TLS; s != nil && s.Version != 0 {
				row[4] = versionName(s.Version) // room for the full name here
			}
			if i == maxMarkdownRows {
				p.line(fmt.Sprintf("\n%d more connections not shown.", len(rows)-i))
				break
			}
			for j := range row {
				row[j] = mdEscape(row[j])
			}
			p.line("| " + strings.Join(row, " | ") + " |")
		}
	}
	return p.err
}

var mdReplacer = strings.NewReplacer(
	"|", `\|`, "\\", `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;",
	"[", `\[`, "]", `\]`, "\n", " ", "\r", " ",
)

// mdEscape keeps text taken from traffic from becoming markup.
func mdEscape(s string) string { return printable(mdReplacer.Replace(s)) }

// mdCode shows s as inline code.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = printable(strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s))
	return "`" + s + "`"
}
