package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLadderFlag: --ladder draws the selected connection's handshake in
// wire order with its finding on the Certificate arrow, instead of the
// table; a query matching nothing is a usage error.
func TestLadderFlag(t *testing.T) {
	p := pcap(t, "cert-expired.pcap")
	code, out, errOut := runCLI(t, "--ladder", "localhost", "--ca-file", caFile(t), p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rest := out[strings.Index(out, "client"):] // after the heading, which names the file
	for _, step := range []string{"ClientHello", "ServerHello", "Certificate", "! cert-expired", "ServerHelloDone", "ClientKeyExchange", "Finished"} {
		i := strings.Index(rest, step)
		if i < 0 {
			t.Fatalf("%s missing or out of order in:\n%s", step, out)
		}
		rest = rest[i+len(step):]
	}
	if strings.Contains(out, "Findings:") {
		t.Error("the table was printed as well as the ladder")
	}
	code, _, errOut = runCLI(t, "--ladder", "no.such.host", p)
	if code != 2 || !strings.Contains(errOut, "no connection matches") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestHTMLFormat: --format html writes one self-contained page, by
// extension with -o and by name with --output-dir.
func TestHTMLFormat(t *testing.T) {
	p := pcap(t, "tls13-openssl.pcap")
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "-q", "-o", filepath.Join(dir, "r.html"), p); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "-q", "--format", "html", "--output-dir", filepath.Join(dir, "out"), p); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"r.html", "out/tlsscope.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		if !strings.HasPrefix(strings.ToLower(page), "<!doctype html") || !strings.Contains(page, "localhost") {
			t.Errorf("%s: not the report page", f)
		}
		if strings.Contains(page, "<script src") || strings.Contains(page, "<link ") {
			t.Errorf("%s: fetches something", f)
		}
	}
}
