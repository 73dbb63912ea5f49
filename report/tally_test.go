package report

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// analysed is one capture run through decode.Analyzer twice over: the
// whole facts kept (copies, as a full run keeps them) and a tally counted
// in the Connection callback, where the facts are valid only during the
// call (as a streaming run counts them).
type analysed struct {
	capture  *Capture
	streamed *Capture
}

func analyse(t *testing.T, path string, rc *rules.Config) analysed {
	t.Helper()
	whole := &Capture{Name: path}
	tally := NewTally()
	st, err := decode.ReadFile(path, path, decode.Config{}, decode.Handler{
		Connection: func(c *facts.Connection) {
			fs := rules.Evaluate(c, rc)
			tally.AddConnection(c)
			tally.AddFindings(fs)
			cc := *c
			whole.Connections = append(whole.Connections, &cc)
			whole.Findings = append(whole.Findings, fs...)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	whole.Stats = st
	whole.Stats.Files = 1
	return analysed{whole, &Capture{Name: path, Stats: whole.Stats, Tally: tally}}
}

// referenceSummary counts a capture the plain way, straight from the
// connection facts and findings (the way the summary was counted before
// the tally): the independent side of the comparison.
func referenceSummary(conns []*facts.Connection, fs []facts.Finding) (n, tlsN, complete, failed int, versions, suites, protocols, findings map[string]int) {
	versions, suites, protocols, findings = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range conns {
		n++
		p := c.Protocol
		if p == "" {
			p = "unknown"
		}
		protocols[p]++
		s := c.TLS
		if s == nil {
			continue
		}
		tlsN++
		if s.Established {
			complete++
		} else {
			failed++
		}
		if s.Version != 0 {
			versions[tls.VersionName(s.Version)]++
		}
		if s.ServerHello != nil {
			suites[tls.CipherSuiteName(s.CipherSuite)]++
		}
	}
	for _, f := range fs {
		findings[f.Severity.String()]++
	}
	return
}

// TestTallySummaryEqualsWholeFacts: on real captures, the summary records
// counted as connections close equal those counted from the whole facts
// and from a plain count of them, per capture and for the run; Worst is
// the most severe finding.
func TestTallySummaryEqualsWholeFacts(t *testing.T) {
	dir := testutil.Pcaps(t)
	names := []string{"cert-good.pcap", "cert-expired.pcap", "http-basic-auth.pcap", "ftp-login.pcap",
		"handshake-no-shared-cipher-openssl.pcap", "handshake-version-mismatch-openssl.pcap", "http-chunked.pcap"}
	rc := rules.DefaultConfig()
	rc.CAFiles = []string{filepath.Join(dir, "ca.pem")}
	if err := rc.Load(); err != nil {
		t.Fatal(err)
	}
	whole, streamed := &Result{}, &Result{}
	for _, name := range names {
		a := analyse(t, filepath.Join(dir, name), rc)
		whole.Captures = append(whole.Captures, a.capture)
		streamed.Captures = append(streamed.Captures, a.streamed)
		c := a.capture
		if len(c.Connections) == 0 {
			t.Fatalf("%s: no connections", name)
		}
		got := CaptureSummary(a.streamed)
		want := NewSummaryRecord("capture", c.Name, c.Stats, c.Connections, c.Findings)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: streamed summary\n%+v\nwhole facts\n%+v", name, got, want)
		}
		n, tlsN, complete, failed, versions, suites, protocols, findings := referenceSummary(c.Connections, c.Findings)
		if got.Connections != n || got.TLSConnections != tlsN || got.HandshakesComplete != complete || got.HandshakesFailed != failed ||
			!reflect.DeepEqual(got.Versions, versions) || !reflect.DeepEqual(got.Suites, suites) ||
			!reflect.DeepEqual(got.Protocols, protocols) || !reflect.DeepEqual(got.Findings, findings) {
			t.Errorf("%s: summary %+v, counted plainly: %d conns, %d TLS, %d complete, %d failed, %v, %v, %v, %v",
				name, got, n, tlsN, complete, failed, versions, suites, protocols, findings)
		}
		w1, ok1 := a.streamed.Counts().Worst()
		w2, ok2 := Worst(c.Findings)
		if w1 != w2 || ok1 != ok2 {
			t.Errorf("%s: worst %v %v from the tally, %v %v from the findings", name, w1, ok1, w2, ok2)
		}
	}
	if got, want := TotalSummary(streamed), TotalSummary(whole); !reflect.DeepEqual(got, want) {
		t.Errorf("total: streamed\n%+v\nwhole facts\n%+v", got, want)
	}
	all := whole.Findings()
	n, _, _, _, _, _, _, findings := referenceSummary(allConns(whole), all)
	if got := TotalSummary(streamed); got.Connections != n || !reflect.DeepEqual(got.Findings, findings) || len(all) == 0 {
		t.Errorf("total: %d connections and findings %v, counted plainly %d and %v", got.Connections, got.Findings, n, findings)
	}
	// The table's summary lines read the same counts.
	if got, want := summaryLines(streamed, 80), summaryLines(whole, 80); !reflect.DeepEqual(got, want) {
		t.Errorf("table summary from tallies\n%q\nfrom whole facts\n%q", got, want)
	}
}

// TestTallyWorst covers the severity ends and the empty tally.
func TestTallyWorst(t *testing.T) {
	tl := NewTally()
	if _, ok := tl.Worst(); ok {
		t.Error("empty tally has a worst severity")
	}
	for _, s := range []facts.Severity{facts.Info, facts.Low, facts.Critical, facts.Medium} {
		tl.AddFindings([]facts.Finding{{Severity: s}})
	}
	if w, ok := tl.Worst(); !ok || w != facts.Critical || tl.FindingCount() != 4 {
		t.Errorf("worst %v %v of %d findings", w, ok, tl.FindingCount())
	}
	u := NewTally()
	u.Merge(tl)
	u.Merge(tl)
	if u.FindingCount() != 8 || u.Findings[facts.Info] != 2 {
		t.Errorf("merged twice: %v", u.Findings)
	}
}

// BenchmarkTallyAddConnection: counting a closed connection allocates
// nothing once its protocol, version and suite have been seen.
func BenchmarkTallyAddConnection(b *testing.B) {
	c := &facts.Connection{Protocol: "tls", TLS: &tls.Session{Version: tls.VersionTLS13, CipherSuite: 0x1301, Established: true, ServerHello: &tls.ServerHello{}}}
	fs := []facts.Finding{{Severity: facts.Low}, {Severity: facts.High}}
	t := NewTally()
	b.ReportAllocs()
	for b.Loop() {
		t.AddConnection(c)
		t.AddFindings(fs)
	}
}
