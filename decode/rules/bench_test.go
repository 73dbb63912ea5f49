package rules_test

import (
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// BenchmarkEvaluateCaptures judges real connections with a warm verdict
// cache, as a run over a capture does from its second connection to a
// server on: "pcaps" every connection of testdata/pcaps per op (CA
// ca.pem), "self-signed" the connection of cert-self-signed.pcap, whose
// findings (self-signed, untrusted) are those of every TLS 1.2
// connection of the bench capture.
func BenchmarkEvaluateCaptures(b *testing.B) {
	dir := testutil.Pcaps(b)
	matches, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if err != nil || len(matches) == 0 {
		b.Fatalf("no captures in %s: %v", dir, err)
	}
	var all []*facts.Connection
	for _, p := range matches {
		all = append(all, analyze(b, p)...)
	}
	self := analyze(b, filepath.Join(dir, "cert-self-signed.pcap"))
	for _, tc := range []struct {
		name  string
		conns []*facts.Connection
	}{{"pcaps", all}, {"self-signed", self}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := &rules.Config{CAFiles: []string{filepath.Join(dir, "ca.pem")}}
			n := 0
			for _, c := range tc.conns {
				n += len(rules.Evaluate(c, cfg))
			}
			if n == 0 {
				b.Fatal("no findings")
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range tc.conns {
					rules.Evaluate(c, cfg)
				}
			}
		})
	}
}
