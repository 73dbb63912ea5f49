package main

import (
	_ "embed"
	"fmt"
	"io"
	"time"

	"github.com/tlsscope/tlsscope/decode/policy"
	"github.com/tlsscope/tlsscope/report"
)

// baselineUsage is tlsscope baseline --help.
//
//go:embed baseline-usage.txt
var baselineUsage string

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
	if err := report.WriteFile(cfg.outputFile, b, 0); err != nil {
		return usagef("%v", err)
	}
	if !cfg.quiet {
		fmt.Fprintf(stderr, "tlsscope: wrote %s: %d suppressions\n", cfg.outputFile, len(p.Suppress))
	}
	return nil
}
