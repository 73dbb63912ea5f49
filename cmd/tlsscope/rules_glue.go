package main

import (
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// ruleSet judges connections. Placeholder until decode/rules lands: no
// findings.
type ruleSet struct{}

func newRuleSet(cfg *config, now time.Time) (*ruleSet, error) { return &ruleSet{}, nil }

func (r *ruleSet) evaluate(c *facts.Connection) []facts.Finding { return nil }

func (r *ruleSet) definitions() []report.Rule { return nil }
