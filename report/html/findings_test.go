package html

import (
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// findingsFor judges the connections with the rules, trusting the test CA
// of testdata/pcaps and judging at capture time.
func findingsFor(t testing.TB, conns []*facts.Connection) []facts.Finding {
	cfg := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(t), "ca.pem")}}
	var out []facts.Finding
	for _, c := range conns {
		out = append(out, rules.Evaluate(c, cfg)...)
	}
	return out
}
