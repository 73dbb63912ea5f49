package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
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

// baseline writes the run's findings as suppressions. The base policy
// (--policy, else an existing -o file unless --force) judges the run and
// receives the new suppressions, its other settings and comments kept.
func baseline(cfg *config, stdout, stderr io.Writer) error {
	files, err := expandInputs(cfg.inputs)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(cfg.outputFile)
	exists := cfg.outputFile != "" && statErr == nil
	switch {
	case exists && cfg.policy == "" && !cfg.force:
		cfg.policy = cfg.outputFile
	case exists && cfg.policy != cfg.outputFile && !cfg.force:
		return usagef("-o %s exists and is not the --policy base", cfg.outputFile).withHint("merge into it with --policy %s, or replace it with --force", cfg.outputFile)
	}
	an, err := newAnalyzer(cfg, stderr, nil)
	if err != nil {
		return err
	}
	r, err := analyzeFiles(an, cfg, files, stderr)
	if err != nil {
		return err
	}
	b, summary, err := policy.BaselineFile(cfg.policy, r.Findings(), time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	if cfg.outputFile == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := report.WriteFile(cfg.outputFile, b, 0); err != nil {
		return usagef("%v", err)
	}
	if !cfg.quiet {
		fmt.Fprintf(stderr, "tlsscope: wrote %s: %s\n", cfg.outputFile, summary)
	}
	return nil
}
