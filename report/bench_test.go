package report

import (
	"io"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// bigResult repeats the fixture's connections n times.
func bigResult(b *testing.B, n int) *Result {
	base := testResult(b)
	c := &Capture{Name: "big.pcap"}
	for i := range n {
		for _, conn := range base.Captures[0].Connections {
			cc := *conn
			cc.ID = uint64(i*10) + conn.ID
			c.Connections = append(c.Connections, &cc)
		}
		for _, f := range base.Captures[0].Findings {
			f.ConnID = uint64(i*10) + f.ConnID
			c.Findings = append(c.Findings, f)
		}
	}
	c.Stats = facts.Stats{Connections: uint64(len(c.Connections))}
	return &Result{Captures: []*Capture{c}}
}

func BenchmarkWrite(b *testing.B) {
	r := bigResult(b, 2000) // 10000 connections
	for _, format := range FormatNames() {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, format, r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
