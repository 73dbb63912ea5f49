package html

import (
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// The page draws report's summary lists.
type (
	count       = report.Count
	leafCert    = report.LeafCert
	serverWorst = report.ServerWorst
)

var (
	sortedCounts   = report.SortedCounts
	leafCerts      = report.LeafCerts
	serversByWorst = report.ServersByWorst
	topSNIs        = report.TopSNIs
	certName       = report.CertName
)

const summaryTop = report.SummaryTop

// connFindings indexes a capture's findings by connection id.
func connFindings(fs []facts.Finding) map[uint64][]facts.Finding {
	m := map[uint64][]facts.Finding{}
	for _, f := range fs {
		if f.ConnID != 0 {
			m[f.ConnID] = append(m[f.ConnID], f)
		}
	}
	for _, l := range m {
		report.SortFindings(l)
	}
	return m
}
