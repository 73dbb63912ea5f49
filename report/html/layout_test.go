package html

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// TestPageLayoutFiltersAndLinks opens the report of real captures, named
// by long absolute paths as the command names them, in headless Chromium
// at 1400 and 390 pixels wide: the page never scrolls sideways (at 1400
// the connections table fits whole; at 390 tables scroll inside their
// box); the severity filter leaves the connections and findings at or
// above it; a finding's connection link opens that connection's row,
// which lists its findings and its certificate chain, whose leaf
// fingerprints are those openssl computes from the PEM the capture's
// server used (testdata/pcaps/certs/leaf.pem, manifest.json).
func TestPageLayoutFiltersAndLinks(t *testing.T) {
	openssl := testutil.Tool(t, "openssl")
	names := append(slices.Clone(realCaptures), "cert-good.pcap")
	r := realResult(t, names)
	long := filepath.Join(testutil.Pcaps(t), "a/rather/deep/directory/of/captures/from/the/nightly/integration/run")
	for _, c := range r.Captures {
		c.Name = filepath.Join(long, c.Name)
		for _, conn := range c.Connections {
			conn.Capture = c.Name
		}
		for i := range c.Findings {
			c.Findings[i].Capture = c.Name
		}
	}
	var fp [2]string
	for i, alg := range []string{"-sha256", "-sha1"} {
		b, err := exec.Command(openssl, "x509", "-in", filepath.Join(testutil.Pcaps(t), "certs/leaf.pem"), "-noout", "-fingerprint", alg).Output()
		if err != nil {
			t.Fatal(err)
		}
		_, h, _ := strings.Cut(strings.TrimSpace(string(b)), "=")
		fp[i] = strings.ToLower(strings.ReplaceAll(h, ":", ""))
	}
	// What the severity filter must leave at "high and above".
	highConns, highFindings := 0, 0
	for _, c := range r.Captures {
		worst := map[uint64]facts.Severity{}
		for _, f := range c.Findings {
			if f.Severity >= facts.High {
				highFindings++
				worst[f.ConnID] = f.Severity
			}
		}
		highConns += len(worst)
	}
	if highConns == 0 || highFindings == 0 {
		t.Fatal("no high finding in the captures: the filter test compares nothing")
	}

	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, writeDoc(t, r, report.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startChromium(t)
	c.openPage(page)
	compared := 0
	for _, width := range []int{1400, 390} {
		c.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
		var sizes struct{ Page, Table, Box int }
		c.eval(`(() => { const t = document.querySelector('#conns'); return {Page: document.documentElement.scrollWidth, Table: t.scrollWidth, Box: t.parentElement.clientWidth} })()`, &sizes)
		if sizes.Page > width {
			var wide []string
			c.eval(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > `+fmt.Sprint(width)+` && !e.parentElement.closest('.wrap')).slice(0, 12).map(e => e.tagName + '.' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).concat(['inner ' + innerWidth, 'body ' + document.body.scrollWidth, 'wraps ' + [...document.querySelectorAll('.wrap')].map(w => w.clientWidth + '/' + w.scrollWidth)])`, &wide)
			t.Errorf("%d px: the page is %d px wide (scrolls sideways): %v", width, sizes.Page, wide)
		}
		if width == 1400 && sizes.Table > sizes.Box {
			t.Errorf("1400 px: the connections table is %d px wide in a %d px box", sizes.Table, sizes.Box)
		}
		compared++
		shot := filepath.Join(t.TempDir(), fmt.Sprintf("report-%d.png", width))
		c.screenshot(shot)
		if *screenshotOut != "" {
			c.screenshot(strings.TrimSuffix(*screenshotOut, ".png") + fmt.Sprintf("-%d.png", width))
		}
	}

	var got struct{ Conns, Findings int }
	c.eval(`(() => { const s = document.querySelector('#sev'); s.value = '3'; s.dispatchEvent(new Event('change'));
		const vis = q => [...document.querySelectorAll(q)].filter(r => r.offsetParent !== null).length;
		return {Conns: vis('#conns tbody tr.c'), Findings: vis('#findings-table tbody tr')} })()`, &got)
	if got.Conns != highConns || got.Findings != highFindings {
		t.Errorf("severity filter at high: %d connections and %d findings shown, want %d and %d", got.Conns, got.Findings, highConns, highFindings)
	}
	compared += 2

	// The capture filter (severity back to any): the session-id
	// resumption capture alone has the two connections tshark counts to
	// its server, and none of the findings (manifest.json lists none for
	// it; every other capture's are hidden).
	total, byServer := tcpStreams(t, names)
	ri := slices.Index(names, "tls12-session-id-resumption-openssl.pcap")
	want := byServer[facts.Endpoint(r.Captures[ri].Connections[0].Server)]
	if want != 2 || total < 9 {
		t.Fatalf("tshark: %d connections to the resumption server, %d in all", want, total)
	}
	c.eval(fmt.Sprintf(`(() => { const s = document.querySelector('#sev'); s.value = '-1'; const k = document.querySelector('#cap'); k.value = '%d'; k.dispatchEvent(new Event('change'));
		const vis = q => [...document.querySelectorAll(q)].filter(r => r.offsetParent !== null).length;
		return {Conns: vis('#conns tbody tr.c'), Findings: vis('#findings-table tbody tr')} })()`, ri), &got)
	if got.Conns != want || got.Findings != 0 {
		t.Errorf("capture filter: %d connections and %d findings shown, want %d and 0", got.Conns, got.Findings, want)
	}
	compared += 2

	// The last finding's link (low: hidden by the filter, which the link
	// clears) opens its connection.
	var link struct {
		Href, Row, ID string
		Open          bool
		Detail        string
	}
	c.eval(`(() => { const as = [...document.querySelectorAll('#findings-table a[href^="#c"]')]; const a = as[as.length-1];
		const id = a.closest('tr').cells[1].textContent; a.click();
		return new Promise(ok => setTimeout(() => { const r = document.getElementById(location.hash.slice(1)); const d = r.nextElementSibling;
		ok({Href: a.getAttribute('href'), Row: '#' + r.id, ID: id, Open: d.offsetParent !== null && r.offsetParent !== null, Detail: d.textContent}) }, 100)) })()`, &link)
	if link.Href != link.Row || !link.Open || !strings.Contains(link.Detail, link.ID) {
		t.Errorf("finding link %s: row %s open %v, detail lacks %s: %.200q", link.Href, link.Row, link.Open, link.ID, link.Detail)
	}
	compared++

	if *screenshotOut != "" {
		c.eval(`(() => { const r = [...document.querySelectorAll('#conns tbody tr.c')].find(r => r.cells[1].textContent === 'cert-good.pcap'); r.click(); r.scrollIntoView() })()`, nil)
		c.screenshot(strings.TrimSuffix(*screenshotOut, ".png") + "-detail.png")
	}
	// cert-good.pcap's chain view.
	var chain string
	c.eval(`(() => { const r = [...document.querySelectorAll('#conns tbody tr.c')].find(r => r.cells[1].textContent === 'cert-good.pcap');
		return r ? r.nextElementSibling.querySelector('.chain').textContent : '' })()`, &chain)
	for _, want := range []string{fp[0], fp[1], "2 sent; no certificate finding", "leaf", "intermediate 1", "SANs", "localhost", "127.0.0.1"} {
		if !strings.Contains(chain, want) {
			t.Errorf("cert-good.pcap's chain view lacks %q: %q", want, chain)
		}
		compared++
	}
	if p := c.problems(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	if compared < 12 {
		t.Errorf("only %d comparisons", compared)
	}
}
