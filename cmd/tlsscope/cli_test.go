package main

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// manifest is testdata/pcaps/manifest.json: what each recorded capture is
// meant to show, written when it was recorded and checked against tshark.
type manifest struct {
	CAFile   string `json:"ca_file"`
	Captures []struct {
		Pcap     string   `json:"pcap"`
		Findings []string `json:"findings"`
		Secrets  []string `json:"secrets"`
	} `json:"captures"`
}

func loadManifest(t *testing.T) (string, manifest) {
	t.Helper()
	dir := testutil.Pcaps(t)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Skipf("no recorded captures: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func pcap(t *testing.T, name string) string {
	dir, _ := loadManifest(t)
	return filepath.Join(dir, name)
}

func caFile(t *testing.T) string {
	dir, m := loadManifest(t)
	return filepath.Join(dir, m.CAFile)
}

// records parses NDJSON output into objects, failing on a bad line.
func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func findingIDs(recs []map[string]any) []string {
	var ids []string
	for _, r := range recs {
		if r["type"] == "finding" {
			ids = append(ids, r["id"].(string))
		}
	}
	return ids
}

func TestExitCodes(t *testing.T) {
	corpus := testutil.Corpus(t)
	sslv3 := filepath.Join(corpus, "zeek/testing/btest/Traces/tls/ssl.v3.pcap")
	notCapture := filepath.Join(t.TempDir(), "x.pcap")
	os.WriteFile(notCapture, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0o644)
	badPolicy := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(badPolicy, []byte("suppress:\n  - id: cert-expired\n    reasn: typo\n"), 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"clean run", []string{"-q", sslv3}, 0, ""},
		// ssl.v3.pcap negotiates TLS 1.0 with RC4 (zeek's ssl-all.log): findings at low or above.
		{"fail-on", []string{"-q", "--fail-on", "low", sslv3}, 1, "needs rules"},
		{"missing file", []string{"nope.pcap"}, 2, "tlsscope: error: reading nope.pcap: no such file"},
		{"not a capture", []string{notCapture}, 2, "tlsscope: error: reading " + notCapture + ": not a capture file"},
		{"bad filter", []string{"-f", "port 99999", sslv3}, 2, "bad filter"},
		{"bad combination", []string{"-i", "lo", sslv3}, 2, "cannot read capture files and capture"},
		{"bad policy", []string{"--policy", badPolicy, sslv3}, 2, `unknown field "reasn"`},
		{"missing CA file", []string{"--ca-file", "nope.pem", sslv3}, 2, "tlsscope: error: --ca-file: reading nope.pem: no such file or directory"},
		{"not a CA file", []string{"--ca-file", badPolicy, sslv3}, 2, "--ca-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stderr == "needs rules" {
				tc.stderr = ""
			}
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Errorf("error is more than a message and a hint:\n%s", stderr)
			}
		})
	}
}

// TestFormatsWrittenToFiles writes every format in one run and parses each.
func TestFormatsWrittenToFiles(t *testing.T) {
	dir := t.TempDir()
	in := pcap(t, "cert-expired.pcap")
	code, stdout, stderr := runCLI(t, "-q", "--ca-file", caFile(t), "--output-dir", dir,
		"--format", "ndjson,json,csv,sarif,junit,markdown", "--format", "table="+filepath.Join(dir, "t.txt"), in)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	recs := records(t, string(read("tlsscope.ndjson")))
	if !slices.Contains(findingIDs(recs), "cert-expired") {
		t.Errorf("ndjson findings %v lack cert-expired (manifest)", findingIDs(recs))
	}
	var doc map[string]any
	if err := json.Unmarshal(read("tlsscope.json"), &doc); err != nil {
		t.Error(err)
	}
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join(testutil.RepoRoot(t), "report/testdata/sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(read("tlsscope.sarif"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("sarif does not validate against the SARIF 2.1.0 schema: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(read("tlsscope.csv")))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Errorf("csv: %v, %d rows", err, len(rows))
	}
	var ju struct {
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(read("tlsscope.xml"), &ju); err != nil || len(ju.Suites) != 1 || ju.Suites[0].Name != in {
		t.Errorf("junit: %v %+v", err, ju)
	}
	if !strings.Contains(string(read("tlsscope.md")), "cert-expired") || !strings.Contains(string(read("t.txt")), "Summary") {
		t.Error("markdown or table lacks content")
	}
}

// TestJA4Filter keeps only connections whose JA4 starts with a prefix; the
// expected count comes from FoxIO's ja4.py output for the same capture.
func TestJA4Filter(t *testing.T) {
	corpus := testutil.Corpus(t)
	in := filepath.Join(corpus, "ja4/pcap/tls-handshake.pcapng")
	b, err := os.ReadFile(filepath.Join(corpus, "ja4/python/test/testdata/tls-handshake.pcapng.json"))
	if err != nil {
		t.Fatal(err)
	}
	var streams []map[string]any
	if err := json.Unmarshal(b, &streams); err != nil {
		t.Fatal(err)
	}
	// ja4.py counts 3 of 59; the h2 family is left out because after a
	// HelloRetryRequest ja4.py reports the first ClientHello (JA4.1).
	const prefix = "t13d1516h1_8daaf6152771"
	want := 0
	for _, s := range streams {
		if ja4, _ := s["JA4.1"].(string); strings.HasPrefix(ja4, prefix) {
			want++
		}
	}
	code, out, stderr := runCLI(t, "-q", "--format", "ndjson", "--ja4", prefix, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := 0
	for _, r := range records(t, out) {
		if r["type"] == "connection" {
			got++
			if !strings.HasPrefix(r["ja4"].(string), prefix) {
				t.Errorf("connection %v kept with JA4 %v", r["id"], r["ja4"])
			}
		}
	}
	if got != want || want == 0 {
		t.Errorf("%d connections with JA4 %s*, ja4.py counts %d", got, prefix, want)
	}
}

// TestBaselineRoundTrip: a baseline of a capture makes a re-run pass; a
// capture with a new problem then fails naming only the new finding.
func TestBaselineRoundTrip(t *testing.T) {
	_, m := loadManifest(t)
	var expired []string
	for _, c := range m.Captures {
		if c.Pcap == "cert-expired.pcap" {
			expired = c.Findings
		}
	}
	old, newer := pcap(t, "cert-self-signed.pcap"), pcap(t, "cert-expired.pcap")
	ca := caFile(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if code, _, stderr := runCLI(t, "baseline", "-q", "--ca-file", ca, "-r", old, "-o", policy); code != 0 {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, "-q", "--ca-file", ca, "--policy", policy, "--fail-on", "info", "--format", "ndjson", old); code != 0 {
		t.Errorf("re-run with the baseline: exit %d, findings %v, stderr %s", code, findingIDs(records(t, out)), stderr)
	}
	code, out, stderr := runCLI(t, "-q", "--ca-file", ca, "--policy", policy, "--fail-on", "info", "--format", "ndjson", old, newer)
	if code != 1 {
		t.Fatalf("with a new capture: exit %d, want 1: %s", code, stderr)
	}
	for _, r := range records(t, out) {
		if r["type"] == "finding" && r["capture"] != newer {
			t.Errorf("finding %v from %v was in the baseline", r["id"], r["capture"])
		}
	}
	ids := findingIDs(records(t, out))
	for _, id := range expired {
		if !slices.Contains(ids, id) {
			t.Errorf("new findings %v lack %s (manifest)", ids, id)
		}
	}
}

// withDecoded adds, for a base64 secret such as Basic credentials, its
// decoded form and the password after "user:", which must not leak either.
func withDecoded(secrets []string) []string {
	out := slices.Clone(secrets)
	for _, s := range secrets {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && utf8.Valid(b) {
			out = append(out, string(b))
			if _, pass, ok := strings.Cut(string(b), ":"); ok && len(pass) >= 6 {
				out = append(out, pass)
			}
		}
	}
	return out
}

// TestSecretsMaskedUnlessShown runs every format over captures with
// cleartext secrets (values from the manifest, recorded with them): none
// appears unless --show-secrets, which also warns on stderr.
func TestSecretsMaskedUnlessShown(t *testing.T) {
	_, m := loadManifest(t)
	for _, name := range []string{"ftp-login.pcap", "http-form-login.pcap", "http-basic-auth.pcap"} {
		var secrets []string
		for _, c := range m.Captures {
			if c.Pcap == name {
				secrets = withDecoded(c.Secrets)
			}
		}
		in := pcap(t, name)
		dir := t.TempDir()
		code, _, stderr := runCLI(t, "--output-dir", dir, "--format", "table,ndjson,json,csv,sarif,junit,markdown", in)
		if code != 0 || strings.Contains(stderr, "show-secrets") {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, s := range secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("%s: %s shows the secret %q", name, filepath.Base(f), s)
				}
			}
		}
		code, out, stderr := runCLI(t, "--show-secrets", "--format", "ndjson", in)
		if code != 0 || !strings.Contains(stderr, "tlsscope: warning: --show-secrets") {
			t.Errorf("%s --show-secrets: exit %d, stderr %q", name, code, stderr)
		}
		shown := false
		for _, s := range secrets {
			shown = shown || strings.Contains(out, s)
		}
		if !shown {
			t.Errorf("%s --show-secrets: none of %q in the output", name, secrets)
		}
	}
}

// TestWorkersGiveTheSameOutput: decoding with one Analyzer or spread over
// workers gives byte-identical NDJSON.
func TestWorkersGiveTheSameOutput(t *testing.T) {
	in := filepath.Join(testutil.Corpus(t), "ja4/pcap/tls-handshake.pcapng")
	_, one, _ := runCLI(t, "-q", "--workers", "1", "--format", "ndjson", in)
	_, four, _ := runCLI(t, "-q", "--workers", "4", "--format", "ndjson", in)
	if one != four || len(records(t, one)) < 60 {
		t.Errorf("--workers 1 and 4 differ (or too little output: %d records)", len(records(t, one)))
	}
}

// TestCheckTime: cert-good.pcap has no findings at capture time
// (manifest); judged in 2100 its certificate has expired.
func TestCheckTime(t *testing.T) {
	in, ca := pcap(t, "cert-good.pcap"), caFile(t)
	_, out, _ := runCLI(t, "-q", "--ca-file", ca, "--format", "ndjson", in)
	if ids := findingIDs(records(t, out)); len(ids) != 0 {
		t.Errorf("at capture time: %v, want none", ids)
	}
	code, out, stderr := runCLI(t, "-q", "--ca-file", ca, "--check-time", "2100-01-01T00:00:00Z", "--fail-on", "high", "--format", "ndjson", in)
	if ids := findingIDs(records(t, out)); code != 1 || !slices.Contains(ids, "cert-expired") {
		t.Errorf("in 2100: exit %d, findings %v: %s", code, ids, stderr)
	}
}
