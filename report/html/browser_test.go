package html

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cdp is a minimal Chrome DevTools Protocol client over
// --remote-debugging-pipe: Chromium reads NUL-terminated JSON commands on
// fd 3 and writes responses and events on fd 4.
type cdp struct {
	t       *testing.T
	w       io.Writer
	msgs    chan cdpMsg
	id      int
	session string
	events  []cdpMsg // events seen so far, in order
}

type cdpMsg struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId"`
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed (CI=true requires it; .ci/run installs it with apt-get install -y chromium)")
		}
		t.Skip("chromium not installed (apt-get install -y chromium)")
	}
	toChrome, cmdR, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = toChrome
	chromeR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// fd 3: what Chromium reads; fd 4: what it writes.
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	t.Cleanup(func() {
		cmdR.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		chromeR.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})
	c := &cdp{t: t, w: cmdR, msgs: make(chan cdpMsg, 256)}
	go func() {
		r := bufio.NewReader(chromeR)
		for {
			b, err := r.ReadBytes(0)
			if err != nil {
				close(c.msgs)
				return
			}
			var m cdpMsg
			if json.Unmarshal(b[:len(b)-1], &m) == nil {
				c.msgs <- m
			}
		}
	}()
	return c
}

// call sends a command (to the attached page when there is one) and
// waits for its result, keeping the events that arrive meanwhile.
func (c *cdp) call(method string, params any, result any) {
	c.t.Helper()
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if c.session != "" && !strings.HasPrefix(method, "Target.") {
		msg["sessionId"] = c.session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("%s: chromium closed the pipe", method)
			}
			if m.ID == 0 {
				c.events = append(c.events, m)
				continue
			}
			if m.ID != c.id {
				continue
			}
			if m.Error != nil {
				c.t.Fatalf("%s: %s", method, m.Error.Message)
			}
			if result != nil {
				if err := json.Unmarshal(m.Result, result); err != nil {
					c.t.Fatalf("%s: %v", method, err)
				}
			}
			return
		case <-deadline:
			c.t.Fatalf("%s: no answer from chromium", method)
		}
	}
}

// waitEvent waits for an event by name.
func (c *cdp) waitEvent(method string) {
	c.t.Helper()
	for _, e := range c.events {
		if e.Method == method {
			return
		}
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("waiting for %s: chromium closed the pipe", method)
			}
			if m.ID == 0 {
				c.events = append(c.events, m)
				if m.Method == method {
					return
				}
			}
		case <-deadline:
			c.t.Fatalf("no %s event", method)
		}
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func (c *cdp) eval(expr string, v any) {
	c.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		c.t.Fatalf("eval %q: %s", expr, r.ExceptionDetails.Text)
	}
	if v != nil {
		if err := json.Unmarshal(r.Result.Value, v); err != nil {
			c.t.Fatalf("eval %q: %v (%s)", expr, err, r.Result.Value)
		}
	}
}

// problems lists console errors, uncaught exceptions, error log entries
// and requests to anything but the file itself seen so far.
func (c *cdp) problems() []string {
	var out []string
	for _, e := range c.events {
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string            `json:"type"`
				Args []json.RawMessage `json:"args"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "assert" {
				out = append(out, fmt.Sprintf("console.%s %s", p.Type, e.Params))
			}
		case "Runtime.exceptionThrown":
			out = append(out, "exception "+string(e.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Text, URL string } `json:"entry"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" {
				out = append(out, fmt.Sprintf("log error %s %s", p.Entry.Text, p.Entry.URL))
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct{ URL string } `json:"request"`
			}
			json.Unmarshal(e.Params, &p)
			if !strings.HasPrefix(p.Request.URL, "file://") && !strings.HasPrefix(p.Request.URL, "data:") && p.Request.URL != "about:blank" {
				out = append(out, "network request "+p.Request.URL)
			}
		}
	}
	return out
}

// openPage opens a file in a new page and waits for it to load.
func (c *cdp) openPage(path string) {
	c.t.Helper()
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	c.call("Target.createTarget", map[string]any{"url": "about:blank"}, &tgt)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	c.call("Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att)
	c.session = att.SessionID
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		c.call(domain+".enable", map[string]any{}, nil)
	}
	c.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": false}, nil)
	c.events = nil
	c.call("Page.navigate", map[string]any{"url": "file://" + path}, nil)
	c.waitEvent("Page.loadEventFired")
}

func (c *cdp) screenshot(path string) {
	c.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	c.call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	b, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

var screenshotOut = flag.String("screenshot", "", "also write the browser test's screenshot to this file (t.TempDir is removed after the test)")

// visibleRows counts connection rows the filter left visible (rendered,
// not just present in the DOM).
const visibleRows = `[...document.querySelectorAll('#conns tbody tr.c')].filter(r => r.offsetParent !== null).length`

// browse opens html in headless Chromium and drives it like a reader:
// no console errors or network fetches, the filter box narrows the rows
// as expected, a row opens its ladder, a header sorts, print media shows
// every ladder. It returns the screenshot's path.
type filterCase struct {
	text string
	want int // rows left visible
}

func browse(t *testing.T, doc []byte, filters []filterCase, wantTotal int) string {
	c := startChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	c.openPage(page)

	var n int
	c.eval(visibleRows, &n)
	if n != wantTotal {
		t.Errorf("visible rows before filtering = %d, want %d", n, wantTotal)
	}
	// Type into the filter box as a user would (Input.insertText fires
	// the input event the page listens to); the last filter stays for
	// the screenshot.
	for _, f := range filters {
		c.eval(`(() => { const f = document.querySelector('#filter'); f.value = ''; f.focus() })()`, nil)
		c.call("Input.insertText", map[string]any{"text": f.text}, nil)
		c.eval(visibleRows, &n)
		if n != f.want {
			t.Errorf("visible rows after typing %q = %d, want %d", f.text, n, f.want)
		}
		var shown string
		c.eval(`document.querySelector('#shown').textContent`, &shown)
		if shown != fmt.Sprint(f.want) {
			t.Errorf("shown counter after typing %q = %q, want %d", f.text, shown, f.want)
		}
	}
	// Open the first visible row: its ladder appears.
	var ladder string
	c.eval(`(() => { const r = [...document.querySelectorAll('#conns tbody tr.c')].find(r => r.offsetParent !== null);
		r.click(); const d = r.nextElementSibling; return d.offsetParent !== null ? d.textContent : '' })()`, &ladder)
	if !strings.Contains(ladder, "client") || !strings.Contains(ladder, "server") {
		t.Errorf("clicking a row did not show its ladder (got %q)", ladder)
	}
	shotPath := filepath.Join(dir, "report.png")
	c.screenshot(shotPath)
	t.Logf("screenshot: %s", shotPath)
	if *screenshotOut != "" {
		c.screenshot(*screenshotOut)
	}

	// Clear the filter, sort by id descending (two clicks) and read the order.
	c.eval(`(() => { const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input')) })()`, nil)
	var ids []int
	c.eval(`(() => { const h = document.querySelector('#conns th'); h.click(); h.click();
		return [...document.querySelectorAll('#conns tbody tr.c')].map(r => +r.cells[0].textContent) })()`, &ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] > ids[i-1] {
			t.Errorf("ids not in descending order after sorting: %v", ids)
			break
		}
	}
	if len(ids) != wantTotal {
		t.Errorf("%d rows after sorting, want %d", len(ids), wantTotal)
	}
	// Each detail row still follows its own row.
	var paired bool
	c.eval(`[...document.querySelectorAll('#conns tbody tr.c')].every(r => r.nextElementSibling && r.nextElementSibling.classList.contains('detail'))`, &paired)
	if !paired {
		t.Errorf("sorting separated rows from their ladders")
	}
	// Print media: every ladder expanded, the header not sticky.
	c.call("Emulation.setEmulatedMedia", map[string]any{"media": "print"}, nil)
	var hidden int
	c.eval(`[...document.querySelectorAll('#conns tbody tr.detail')].filter(r => getComputedStyle(r).display === 'none').length`, &hidden)
	if hidden != 0 {
		t.Errorf("print media: %d ladders still hidden", hidden)
	}
	var pos string
	c.eval(`getComputedStyle(document.querySelector('#conns thead th')).position`, &pos)
	if pos == "sticky" {
		t.Errorf("print media: header still sticky")
	}
	// And it prints: every ladder is in the PDF's text.
	var pdf struct {
		Data string `json:"data"`
	}
	c.call("Page.printToPDF", map[string]any{"printBackground": true}, &pdf)
	b, err := base64.StdEncoding.DecodeString(pdf.Data)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("printToPDF gave no PDF (%d bytes, %v)", len(b), err)
	} else {
		pdfPath := filepath.Join(dir, "report.pdf")
		os.WriteFile(pdfPath, b, 0o644)
		t.Logf("pdf: %s (%d bytes)", pdfPath, len(b))
	}
	if p := c.problems(); len(p) > 0 {
		t.Errorf("page problems:\n%s", strings.Join(p, "\n"))
	}
	return shotPath
}

// TestBrowserSeesProblems: the checks browse relies on catch a console
// error, an uncaught exception and a fetch from the network.
func TestBrowserSeesProblems(t *testing.T) {
	c := startChromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom"); undefinedFunction();</script></body></html>`
	if err := os.WriteFile(page, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	c.openPage(page)
	got := strings.Join(c.problems(), "\n")
	for _, want := range []string{"console.error", "exception", "network request http://127.0.0.1:9/x.png"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems() missed %q; got:\n%s", want, got)
		}
	}
}
