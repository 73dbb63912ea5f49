package main

import (
	"os"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/report"
)

// ruleSet is decode/rules configured from the command line.
type ruleSet struct {
	cfg *rules.Config
}

// newRuleSet reads --ca-file, --check-time and --expiry-warn, loading the
// CA files before any work so a bad one is reported first.
func newRuleSet(cfg *config, now time.Time) (*ruleSet, error) {
	for _, f := range cfg.caFiles {
		if _, err := os.Stat(f); err != nil {
			return nil, usagef("--ca-file: reading %s: %v", f, unwrapPathError(err))
		}
	}
	rc := rules.DefaultConfig()
	rc.CAFiles = cfg.caFiles
	if err := rc.SetCheckTime(cfg.checkTime); err != nil {
		return nil, usagef("--check-time: %v", err)
	}
	rc.Now = func() time.Time { return now }
	rc.ExpiryWarn = cfg.expiryWarn
	if err := rc.Load(); err != nil {
		return nil, usagef("--ca-file: %v", err)
	}
	return &ruleSet{cfg: rc}, nil
}

func (r *ruleSet) evaluate(c *facts.Connection) []facts.Finding {
	return rules.Evaluate(c, r.cfg)
}

// definitions describes every finding id, for SARIF.
func (r *ruleSet) definitions() []report.Rule {
	var out []report.Rule
	for _, d := range rules.Definitions() {
		out = append(out, report.Rule{ID: d.ID, Severity: d.Severity, Title: d.Title, Help: d.Help, Reference: d.Reference})
	}
	return out
}
