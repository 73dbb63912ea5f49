package robust

import (
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// evaluate runs the rules on one connection. decode/rules has not landed
// yet; until it does this returns nothing.
func evaluate(c *facts.Connection) []facts.Finding { return nil }

// ruleDescriptions are the finding definitions for formats that carry
// them.
func ruleDescriptions() []report.Rule { return nil }
