package html

import (
	"io"
	"testing"

	"github.com/tlsscope/tlsscope/report"
)

// bigResult repeats the fixture's connections (and their findings) to n
// connections in one capture.
func bigResult(b *testing.B, n int) *report.Result {
	f := fixture(b)
	cp := f.Captures[0]
	big := &report.Capture{Name: cp.Name, Stats: cp.Stats}
	for i := 0; len(big.Connections) < n; i++ {
		for _, c := range cp.Connections {
			cc := *c
			cc.ID = uint64(len(big.Connections) + 1)
			big.Connections = append(big.Connections, &cc)
			for _, fd := range cp.Findings {
				if fd.ConnID == c.ID {
					fd.ConnID = cc.ID
					big.Findings = append(big.Findings, fd)
				}
			}
		}
	}
	return &report.Result{Tool: "tlsscope", Captures: []*report.Capture{big}}
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite10k writes the report of 10,000 connections (ladders for
// the first MaxLadders); its baseline is the table format over the same
// Result, measured in the same run.
func BenchmarkWrite10k(b *testing.B) {
	r := bigResult(b, 10_000)
	b.Run("html", func(b *testing.B) {
		var c counter
		b.ReportAllocs()
		for b.Loop() {
			if err := Write(&c, r, report.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(c.n)/float64(b.N)/(1<<20), "MiB/report")
	})
	b.Run("table-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := report.WriteTable(io.Discard, r, report.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
