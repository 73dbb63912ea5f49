package decode

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestParserPanicContained: a panic injected into one flow's parsing is
// recovered, counted as a parser_panic anomaly naming that flow, and every
// other connection of the capture is still reported in full.
func TestParserPanicContained(t *testing.T) {
	path := filepath.Join(testutil.Corpus(t), "ja4/pcap/tls-handshake.pcapng")
	run := func() (map[string]*facts.Connection, []facts.Anomaly) {
		f, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		conns := map[string]*facts.Connection{}
		var panics []facts.Anomaly
		a := New(Config{}, Handler{
			Connection: func(c *facts.Connection) { cp := *c; conns[c.Client.String()] = &cp },
			Anomaly: func(an facts.Anomaly) {
				if an.Kind == "parser_panic" {
					panics = append(panics, an)
				}
			},
		})
		a.SetCapture(path)
		for {
			p, err := f.Next()
			if err == io.EOF {
				break
			}
			a.Packet(p)
		}
		a.Flush()
		return conns, panics
	}
	clean, _ := run()
	// The SNI of one connection marks the bytes to fail on.
	marker := []byte("lastpass.com")
	faultHook = func(data []byte) {
		if bytes.Contains(data, marker) {
			panic("injected fault")
		}
	}
	defer func() { faultHook = nil }()
	got, panics := run()
	want := 0
	for _, c := range clean {
		if c.TLS != nil && c.TLS.ClientHello != nil && strings.Contains(c.TLS.ClientHello.ServerName, string(marker)) {
			want++
		}
	}
	if want == 0 || len(panics) != want {
		t.Fatalf("%d parser_panic anomalies, want %d (one per connection to %s)", len(panics), want, marker)
	}
	victims := map[string]bool{}
	for _, p := range panics {
		victims[p.Client.String()] = true
		if p.ConnID == 0 || p.Detail != "injected fault" {
			t.Errorf("anomaly does not name the flow and the fault: %+v", p)
		}
	}
	if len(got) != len(clean) {
		t.Fatalf("%d connections after the fault, %d without", len(got), len(clean))
	}
	for k, c := range clean {
		if victims[k] {
			continue
		}
		g := got[k]
		if g == nil || g.TLS == nil || c.TLS == nil || g.TLS.Version != c.TLS.Version || g.Fingerprints != c.Fingerprints {
			t.Errorf("%s: facts changed by another flow's fault", k)
		}
	}
}
