package robust

import (
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
)

// evaluator runs the rules on one connection, with a rules.Config of its
// own (a run's verdict cache is not shared with the next): judged at
// capture time, no trust anchors (so no machine store is read).
func evaluator() func(c *facts.Connection) []facts.Finding {
	cfg := &rules.Config{}
	return func(c *facts.Connection) []facts.Finding { return rules.Evaluate(c, cfg) }
}

// ruleDescriptions are the finding definitions for formats that carry
// them.
func ruleDescriptions() []rules.Definition {
	return rules.Definitions()
}
