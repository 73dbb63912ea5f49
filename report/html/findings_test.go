package html

import "github.com/tlsscope/tlsscope/decode/facts"

// findingsFor: no rules yet (decode/rules is not committed).
func findingsFor(conns []*facts.Connection) []facts.Finding { return nil }
