package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestPolicyChecksAndOverrides: a policy's expectations become findings,
// its severity overrides move --fail-on, an expired suppression is ignored
// with a warning. tls10-openssl.pcap negotiates TLS 1.0 with
// ECDHE-RSA-AES256-CBC-SHA (manifest and tshark).
func TestPolicyChecksAndOverrides(t *testing.T) {
	in := pcap(t, "tls10-openssl.pcap")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	strict := write("strict.yaml", `
min_version: TLS 1.2
denied_suites: [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA]
expected_snis: ["*.example.com"]
`)
	code, out, stderr := runCLI(t, "-q", "--policy", strict, "--fail-on", "high", "--format", "ndjson", in)
	ids := findingIDs(records(t, out))
	for _, id := range []string{"policy-min-version", "policy-denied-suite", "policy-unexpected-sni"} {
		if !slices.Contains(ids, id) {
			t.Errorf("findings %v lack %s", ids, id)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (policy-min-version is high): %s", code, stderr)
	}

	// Every finding lowered to info: --fail-on low passes.
	lower := "severity:\n"
	for _, id := range findingIDs(records(t, func() string { _, o, _ := runCLI(t, "-q", "--format", "ndjson", in); return o }())) {
		lower += "  " + id + ": info\n"
	}
	if code, _, stderr := runCLI(t, "-q", "--policy", write("lower.yaml", lower), "--fail-on", "low", in); code != 0 {
		t.Errorf("with every severity lowered to info: exit %d: %s", code, stderr)
	}

	// An expired suppression suppresses nothing and says so.
	expired := write("expired.yaml", "suppress:\n  - id: deprecated-version\n    reason: legacy box\n    expires: 2020-01-31\n")
	code, out, stderr = runCLI(t, "--policy", expired, "--format", "ndjson", in)
	if !slices.Contains(findingIDs(records(t, out)), "deprecated-version") || !strings.Contains(stderr, "expired on 2020-01-31") {
		t.Errorf("expired suppression: exit %d, findings %v, stderr %q", code, findingIDs(records(t, out)), stderr)
	}
}

// TestCertificatePins: a pin on the leaf of cert-good.pcap
// (testdata/pcaps/certs/leaf.pem, per the manifest; its SHA-256 computed
// by openssl) holds; a wrong pin is a critical finding.
func TestCertificatePins(t *testing.T) {
	openssl := testutil.Tool(t, "openssl")
	dir, _ := loadManifest(t)
	fp, err := exec.Command(openssl, "x509", "-in", filepath.Join(dir, "certs/leaf.pem"), "-noout", "-fingerprint", "-sha256").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, hex, _ := strings.Cut(strings.TrimSpace(string(fp)), "=")
	in := pcap(t, "cert-good.pcap")
	for _, tc := range []struct {
		pin  string
		code int
	}{{hex, 0}, {strings.Repeat("ab", 32), 1}} {
		pol := filepath.Join(t.TempDir(), "pins.yaml")
		os.WriteFile(pol, []byte("pins:\n  - sni: localhost\n    sha256: [\""+tc.pin+"\"]\n"), 0o644)
		code, out, stderr := runCLI(t, "-q", "--ca-file", caFile(t), "--policy", pol, "--fail-on", "critical", "--format", "ndjson", in)
		ids := findingIDs(records(t, out))
		if code != tc.code || (tc.code == 1) != slices.Contains(ids, "policy-cert-pin-mismatch") {
			t.Errorf("pin %s: exit %d, findings %v: %s", tc.pin, code, ids, stderr)
		}
	}
}
