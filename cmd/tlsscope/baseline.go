package main

import (
	"fmt"
	"io"
	"time"

	"github.com/tlsscope/tlsscope/decode/policy"
)

const baselineUsage = `Usage: tlsscope baseline [flags] FILE... [-o policy.yaml]

Analyses the captures and writes a policy that suppresses every finding
they produce (by finding fingerprint, each with a reason and the date), so
that a later run with --policy reports only what is new. Without -o the
policy goes to standard output.

Flags: -r FILE, -f EXPR, --ja4, --sni, --ca-file, --check-time,
--expiry-warn, --max-flows, --max-buffer, --idle-timeout, -q, -o FILE
(see tlsscope --help)

Example:
  tlsscope baseline -r today.pcap -o policy.yaml
  tlsscope --policy policy.yaml --fail-on low tomorrow.pcap
`

func runBaseline(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, true)
	if err != nil {
		reportError(stderr, err)
		return exitUsage
	}
	if cfg.help {
		io.WriteString(stdout, baselineUsage)
		return exitOK
	}
	if err := baseline(cfg, stdout, stderr); err != nil {
		reportError(stderr, err)
		return exitUsage
	}
	return exitOK
}

func baseline(cfg *config, stdout, stderr io.Writer) error {
	files, err := expandInputs(cfg.inputs)
	if err != nil {
		return err
	}
	an, err := newAnalyzer(cfg, stderr, nil)
	if err != nil {
		return err
	}
	r, err := analyzeFiles(an, cfg, files, stderr)
	if err != nil {
		return err
	}
	p := policy.Baseline(r.Findings(), time.Now())
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	if cfg.outputFile == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := writeFile(cfg.outputFile, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return err
	}
	if !cfg.quiet {
		fmt.Fprintf(stderr, "tlsscope: wrote %s: %d suppressions\n", cfg.outputFile, len(p.Suppress))
	}
	return nil
}
