package html

import (
	"bytes"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/report"
)

// FuzzWrite: whatever text traffic and rules put in a Result (SNI, ALPN,
// HTTP paths, finding messages, evidence, references), the document parses
// with one script, fetches nothing and has one row per connection.
func FuzzWrite(f *testing.F) {
	f.Add("www.example.com", "h2", "/login", "message", "evidence", "RFC 5280, 4.1.2.5")
	f.Add(`"><script src=//x></script>`, "</pre><img src=x>", "javascript:alert(1)", "</style>", "{{.}}", "javascript:alert(1)")
	f.Add("\x1b[2J", "\x00", "]]>", "<!--", "-->", "https://example.com/\"onmouseover=alert(1)")
	f.Fuzz(func(t *testing.T, sni, alpn, path, msg, evidence, ref string) {
		c := &facts.Connection{ID: 1, Capture: sni, Protocol: "tls",
			TLS: &tls.Session{ClientHello: &tls.ClientHello{ServerName: sni, ALPNProtocols: []string{alpn}}, ALPN: alpn,
				Events: []tls.Event{{Content: 22, Handshake: 1}}},
			HTTP:    []facts.HTTPMessage{{Method: msg, Path: path, Host: sni, Status: 200, ContentType: alpn}},
			Secrets: []facts.Secret{{Protocol: "http", Masked: evidence, Field: path}}}
		r := &report.Result{Tool: sni, Version: alpn,
			Rules: []rules.Definition{{ID: msg, Title: msg, Help: evidence, Reference: ref}},
			Captures: []*report.Capture{{Name: path, Connections: []*facts.Connection{c},
				Findings: []facts.Finding{{ID: msg, ConnID: 1, SNI: sni, Message: msg, Evidence: evidence, Reference: ref, Step: facts.StepClientHello}},
				Stats:    facts.Stats{Anomalies: map[string]uint64{msg: 1}},
			}}}
		var b bytes.Buffer
		if err := Write(&b, r, report.Options{}); err != nil {
			t.Fatal(err)
		}
		doc, err := xhtml.Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if refs := externalRefs(doc); len(refs) > 0 {
			t.Fatalf("external references %v", refs)
		}
		scripts := 0
		walk(doc, func(n *xhtml.Node) {
			if n.Type == xhtml.ElementNode && n.Data == "script" {
				scripts++
			}
			if n.Type == xhtml.ElementNode && n.Data == "a" {
				// A web reference, or a finding's link to its connection's
				// row on the page (#c<capture>-<id>).
				h, _ := attr(n, "href")
				if internal := strings.HasPrefix(h, "#c") && strings.Trim(h[2:], "0123456789-") == ""; !internal && (len(h) < 8 || h[:7] != "http://" && h[:8] != "https://") {
					t.Fatalf("link to %q", h)
				}
			}
		})
		if scripts != 1 {
			t.Fatalf("%d scripts", scripts)
		}
		if n := len(connRows(doc)); n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}
