package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
