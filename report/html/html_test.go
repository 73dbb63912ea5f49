package html

import (
	"bytes"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/report"
)

func writeDoc(t testing.TB, r *report.Result, opt report.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func parse(t testing.TB, doc []byte) *xhtml.Node {
	t.Helper()
	n, err := xhtml.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func walk(n *xhtml.Node, f func(*xhtml.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *xhtml.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *xhtml.Node, c string) bool {
	v, _ := attr(n, "class")
	for _, f := range strings.Fields(v) {
		if f == c {
			return true
		}
	}
	return false
}

func text(n *xhtml.Node) string {
	var b strings.Builder
	walk(n, func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
	})
	return b.String()
}

// connRows returns the connection rows of the table.
func connRows(doc *xhtml.Node) []*xhtml.Node {
	var rows []*xhtml.Node
	walk(doc, func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "tr" && hasClass(n, "c") {
			rows = append(rows, n)
		}
	})
	return rows
}

// externalRefs lists every way the document could fetch something: a
// src, an href anywhere but on <a>, srcset, poster, data, action, CSS
// url() and @import. Links in <a href> are allowed (references).
func externalRefs(doc *xhtml.Node) []string {
	var out []string
	walk(doc, func(n *xhtml.Node) {
		switch n.Type {
		case xhtml.ElementNode:
			for _, a := range n.Attr {
				switch a.Key {
				case "src", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href":
					out = append(out, n.Data+" "+a.Key+"="+a.Val)
				case "href":
					if n.Data != "a" {
						out = append(out, n.Data+" href="+a.Val)
					}
				case "style":
					if strings.Contains(a.Val, "url(") {
						out = append(out, n.Data+" style="+a.Val)
					}
				}
			}
			if n.Data == "iframe" || n.Data == "object" || n.Data == "embed" || n.Data == "base" {
				out = append(out, "<"+n.Data+">")
			}
		case xhtml.TextNode:
			if n.Parent != nil && n.Parent.Data == "style" && (strings.Contains(n.Data, "url(") || strings.Contains(n.Data, "@import")) {
				out = append(out, "style: url() or @import")
			}
		}
	})
	return out
}

func TestOneRowPerConnection(t *testing.T) {
	r := fixture(t)
	doc := parse(t, writeDoc(t, r, report.Options{}))
	rows := connRows(doc)
	conns := r.Captures[0].Connections
	if len(rows) != len(conns) {
		t.Fatalf("%d rows, want %d", len(rows), len(conns))
	}
	for i, row := range rows {
		c := conns[i]
		txt := text(row)
		if !strings.Contains(txt, facts.Endpoint(c.Client)) || !strings.Contains(txt, facts.Endpoint(c.Server)) {
			t.Errorf("row %d %q lacks its endpoints", i, txt)
		}
		detail := row.NextSibling
		for detail != nil && detail.Type != xhtml.ElementNode {
			detail = detail.NextSibling
		}
		if detail == nil || !hasClass(detail, "detail") || !strings.Contains(text(detail), "connection #") {
			t.Errorf("row %d not followed by its ladder", i)
		}
	}
}

func TestSelfContained(t *testing.T) {
	doc := parse(t, writeDoc(t, fixture(t), report.Options{}))
	if refs := externalRefs(doc); len(refs) > 0 {
		t.Errorf("external references: %v", refs)
	}
	scripts := 0
	walk(doc, func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "script" {
			scripts++
		}
	})
	if scripts != 1 {
		t.Errorf("%d script elements, want 1 (an SNI from traffic must stay text)", scripts)
	}
	// The check itself must catch what it is for.
	bad := parse(t, []byte(`<html><head><link rel=stylesheet href="https://cdn.example/x.css"><script src="https://cdn.example/x.js"></script></head><body><img src="http://x/y.png"><a href="https://ok.example/">ok</a></body></html>`))
	if refs := externalRefs(bad); len(refs) != 3 {
		t.Errorf("externalRefs on a page with 3 fetches found %v", refs)
	}
	if len(css)+len(js) > 6000 {
		t.Errorf("inline CSS+JS is %d bytes, keep it under 6000", len(css)+len(js))
	}
}

func TestReferencesAreLinks(t *testing.T) {
	doc := parse(t, writeDoc(t, fixture(t), report.Options{}))
	var hrefs []string
	walk(doc, func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "a" {
			v, _ := attr(n, "href")
			hrefs = append(hrefs, v)
		}
	})
	for _, want := range []string{"https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5", "https://owasp.org/Top10/A02_2021-Cryptographic_Failures/"} {
		found := false
		for _, h := range hrefs {
			found = found || h == want
		}
		if !found {
			t.Errorf("no link to %s in %v", want, hrefs)
		}
	}
}

func TestNoPlantedSecret(t *testing.T) {
	r := fixture(t)
	doc := writeDoc(t, r, report.Options{})
	for _, s := range []string{plantedPassword, plantedCookie} {
		if bytes.Contains(doc, []byte(s)) {
			t.Errorf("planted secret %q in the report", s)
		}
	}
	if !bytes.Contains(doc, []byte("h******")) {
		t.Errorf("masked password not shown")
	}
	// With ShowSecrets the value is there: the check above can fail.
	if !bytes.Contains(writeDoc(t, r, report.Options{ShowSecrets: true}), []byte(plantedPassword)) {
		t.Errorf("ShowSecrets did not show the password")
	}
}

func TestSummaryText(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteSummaryText(&b, fixture(t), 0); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// server.pem's notAfter (openssl x509 -noout -enddate) is
	// 2026-12-29T02:59:54Z; the fixture saw it on 2026-12-20.
	for _, want := range []string{
		"Summary of a.pcap",
		"Certificates expired or expiring within 30 days:\n    2026-12-29  www.example.com (www.example.com): 9 days left",
		"Servers by worst finding:\n    critical  10.0.0.10:80: plaintext-credentials",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("control characters from traffic reached the terminal: %q", out)
	}
}

func TestEmptyAndSparseResults(t *testing.T) {
	for name, r := range map[string]*report.Result{
		"no captures":     {},
		"empty capture":   {Captures: []*report.Capture{{Name: "empty.pcap"}}},
		"bare connection": {Captures: []*report.Capture{{Name: "x.pcap", Connections: []*facts.Connection{{ID: 1}, {ID: 2, TLS: &tls.Session{}}}}}},
	} {
		doc := parse(t, writeDoc(t, r, report.Options{}))
		want := 0
		for _, c := range r.Captures {
			want += len(c.Connections)
		}
		if got := len(connRows(doc)); got != want {
			t.Errorf("%s: %d rows, want %d", name, got, want)
		}
		var b bytes.Buffer
		if err := report.WriteSummaryText(&b, r, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPageShowsInvisibleCharacters: bidi overrides, zero-width characters
// and control characters from traffic cannot hide in the page.
func TestPageShowsInvisibleCharacters(t *testing.T) {
	in := "<td>evil\u202egnp.exe</td>\n\t<td>a\x1b[2Jb\u200b</td>\r\n"
	want := "<td>evil[U+202E]gnp.exe</td>\n\t<td>a?[2Jb[U+200B]</td>\r\n"
	if got := string(printablePage([]byte(in))); got != want {
		t.Errorf("printablePage = %q, want %q", got, want)
	}
	clean := []byte("<p>plain … text</p>\n")
	if got := printablePage(clean); &got[0] != &clean[0] {
		t.Error("a clean page was copied")
	}
}

// TestExpiryLabelsWhole: the certificate validity chart names each
// certificate whole up to expiryLabel characters (its label was cut at
// 11) and prints its notAfter date after its bar.
func TestExpiryLabelsWhole(t *testing.T) {
	seen := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	certs := []leafCert{
		{Name: "www.dresdner-privat.de", Seen: seen, Cert: facts.Certificate{NotBefore: seen.AddDate(-1, 0, 0), NotAfter: seen.AddDate(0, 0, 20)}},
		{Name: "pdx-collector.splunkcloud.com", Seen: seen, Cert: facts.Certificate{NotBefore: seen.AddDate(0, -2, 0), NotAfter: seen.AddDate(1, 0, 0)}},
	}
	out := string(expiryChart(certs))
	for _, want := range []string{">www.dresdner-privat.de</text>", ">pdx-collector.splunkcloud…</text>", ">2026-12-19</text>", ">2027-11-29</text>"} {
		if !strings.Contains(out, want) {
			t.Errorf("expiry chart lacks %q:\n%s", want, out)
		}
	}
}
