package main

import (
	"io"
	"strings"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/internal/clidoc"

	"github.com/tlsscope/tlsscope/decode/policy"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/report"
)

// runInfo answers the subcommands that describe tlsscope rather than
// analyse: `tlsscope rules [--format table|json]`, `tlsscope policy
// schema`, `tlsscope completion bash|zsh|fish` and `tlsscope man`. ok is
// false when args are not one of them.
func runInfo(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	switch {
	case len(args) > 0 && (args[0] == "completion" || args[0] == "man"):
		doc, err := commandDoc()
		if err == nil {
			err = doc.Run(stdout, args, tlsscope.Version())
		}
		return exitCode(err, stderr), true
	case len(args) == 2 && args[0] == "policy" && args[1] == "schema":
		_, err := stdout.Write(policy.Schema)
		return exitCode(err, stderr), true
	case len(args) == 0 || args[0] != "rules":
		return 0, false
	}
	asJSON := false
	switch f := args[1:]; {
	case len(f) == 0, len(f) == 2 && f[0] == "--format" && f[1] == "table", len(f) == 1 && f[0] == "--format=table":
	case len(f) == 2 && f[0] == "--format" && f[1] == "json", len(f) == 1 && f[0] == "--format=json":
		asJSON = true
	default:
		reportError(stderr, usagef("tlsscope rules: unexpected %q", f).withHint("tlsscope rules [--format table|json]"))
		return exitUsage, true
	}
	return exitCode(report.WriteRules(stdout, rules.Definitions(), asJSON), stderr), true
}

// commandDoc is the command as clidoc reads it: --help's text against
// the flags parseArgs parses.
func commandDoc() (*clidoc.Command, error) {
	c, err := clidoc.New("tlsscope", usageText, newFlagSet(&config{}, &flagValues{}, false),
		[]string{"baseline", "rules", "policy", "completion", "man"},
		map[string][]string{"FMT": report.FormatNames(), "SEVERITY": {"info", "low", "medium", "high", "critical"}, "WHEN": {"now", "capture"}})
	if err == nil {
		c.More = []clidoc.Section{{Title: "Baseline", Lines: strings.Split(strings.TrimSpace(baselineUsage), "\n")}}
	}
	return c, err
}

func exitCode(err error, stderr io.Writer) int {
	if err != nil {
		reportError(stderr, err)
		return exitUsage
	}
	return exitOK
}
