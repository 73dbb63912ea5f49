package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func render(t *testing.T, format string, r *Result, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r, opt); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

// TestGolden compares every format with its golden file (checked by eye
// when written; -update rewrites them). The structural tests below hold
// the properties that must survive an -update.
func TestGolden(t *testing.T) {
	r := testResult(t)
	for _, format := range FormatNames() {
		t.Run(format, func(t *testing.T) {
			got := render(t, format, r, Options{Width: 80, FailOn: facts.Medium})
			path := filepath.Join("testdata", "golden", format+"."+mustFormat(t, format).Extension)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", format, path, got)
			}
		})
	}
}

func TestUnknownFormatRejected(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "yaml", testResult(t), Options{}); err == nil {
		t.Fatal("format yaml accepted")
	}
}

// TestSecretsMaskedInEveryFormat plants secret values in the facts: no
// format may print them unless ShowSecrets is set, and with it the value
// must appear in the formats that list secrets.
func TestSecretsMaskedInEveryFormat(t *testing.T) {
	r := testResult(t)
	for _, format := range FormatNames() {
		out := string(render(t, format, r, Options{Width: 200}))
		for _, s := range []string{secretPassword, secretCookie} {
			if strings.Contains(out, s) {
				t.Errorf("%s prints the secret %q without ShowSecrets", format, s)
			}
		}
	}
	for _, format := range []string{"ndjson", "json"} {
		out := string(render(t, format, r, Options{ShowSecrets: true}))
		for _, s := range []string{secretPassword, secretCookie} {
			if !strings.Contains(out, s) {
				t.Errorf("%s with ShowSecrets does not print %q", format, s)
			}
		}
	}
}

// contractFields are the keys of the NDJSON contract; a record missing one
// breaks consumers.
var contractFields = map[string][]string{
	"connection": {"type", "ts", "client", "server", "sni", "version", "version_id", "cipher", "cipher_id",
		"alpn_offered", "alpn", "resumed", "hello_retry", "established", "alerts", "certificates",
		"ja3", "ja3_full", "ja3s", "ja3s_full", "ja4", "ja4_r", "findings", "capture", "id",
		"packets_client", "packets_server", "bytes_client", "bytes_server", "versions_offered", "suites_offered",
		"groups", "key_share", "resumption", "client_cert_requested", "client_cert_sent", "hidden", "closed"},
	"finding": {"type", "id", "severity", "client", "server", "sni", "message", "evidence", "reference", "capture", "connection"},
	"http":    {"type", "method", "host", "path", "status", "content_type", "request_bytes", "response_bytes"},
	"anomaly": {"type", "kind", "connection", "offset"},
	"summary": {"type", "connections", "handshakes_complete", "handshakes_failed", "versions", "suites", "bytes", "packets", "first", "last", "anomalies", "gaps", "truncated_packets", "evicted"},
}

var arrayFields = []string{"alpn_offered", "alerts", "certificates", "findings", "versions_offered", "suites_offered", "groups", "key_share"}

func TestNDJSONContract(t *testing.T) {
	r := testResult(t)
	out := render(t, "ndjson", r, Options{})
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var types []string
	var conns []map[string]any
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d does not parse: %v\n%s", n, err, sc.Bytes())
		}
		typ, _ := m["type"].(string)
		want, ok := contractFields[typ]
		if !ok {
			t.Fatalf("line %d: unknown type %q", n, typ)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d (%s): field %q missing", n, typ, k)
			}
		}
		if typ == "connection" {
			for _, k := range arrayFields {
				if _, ok := m[k].([]any); !ok {
					t.Errorf("line %d: %s is %v, want an array", n, k, m[k])
				}
			}
			conns = append(conns, m)
		}
		types = append(types, typ)
	}
	if len(conns) != 6 {
		t.Fatalf("%d connection records, want 6", len(conns))
	}
	if types[len(types)-1] != "summary" {
		t.Errorf("last record is %q, want summary", types[len(types)-1])
	}
	if n := strings.Count(strings.Join(types, " "), "finding"); n != 6 {
		t.Errorf("%d finding records, want 6", n)
	}
	if n := strings.Count(strings.Join(types, " "), "http"); n != 1 {
		t.Errorf("%d http records, want 1", n)
	}
	// IPv6 endpoints are [addr]:port.
	if got := conns[1]["server"]; got != "[2a00:1450:4001:82b::200e]:443" {
		t.Errorf("IPv6 server = %v", got)
	}
	if got := conns[0]["version_id"]; got != float64(0x0303) {
		t.Errorf("version_id = %v, want 771", got)
	}
	if got := conns[0]["cipher_id"]; got != float64(0xc02f) {
		t.Errorf("cipher_id = %v", got)
	}
	alerts := conns[1]["alerts"].([]any)
	if len(alerts) != 1 || alerts[0].(map[string]any)["code"] != float64(70) || alerts[0].(map[string]any)["level"] != "fatal" || alerts[0].(map[string]any)["from"] != "server" {
		t.Errorf("alerts = %v", alerts)
	}
	certs := conns[0]["certificates"].([]any)
	c := certs[0].(map[string]any)
	// Values as openssl x509 prints them for testdata/server.pem.
	// openssl x509 -fingerprint -sha256 / -sha1 of testdata/server.pem.
	if c["sha256"] != "ec62fabd80645668e6bc55c3d16ddb43b1d7f743fd49f1ef7bda502c526e2e55" || c["sha1"] != "7fd083ccbaf55ea3d8ca6648bf3c176a214eed91" {
		t.Errorf("fingerprints %v %v", c["sha256"], c["sha1"])
	}
	if c["serial"] != "1234" || c["key"] != "RSA 2048" || c["not_after"] != "2026-12-29T02:59:54Z" {
		t.Errorf("certificate = %v", c)
	}
	if f := conns[0]["findings"].([]any); len(f) != 1 || f[0] != "cert-expired" {
		t.Errorf("findings = %v", f)
	}
	// GREASE values are not listed.
	if got := conns[0]["suites_offered"].([]any); len(got) != 3 {
		t.Errorf("suites_offered = %v, want 3 without GREASE", got)
	}
}

func TestJSONDocumentParses(t *testing.T) {
	var d Document
	if err := json.Unmarshal(render(t, "json", testResult(t), Options{}), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Captures) != 2 || len(d.Captures[0].Connections) != 5 || len(d.Findings) != 6 {
		t.Fatalf("captures %d, connections %d, findings %d", len(d.Captures), len(d.Captures[0].Connections), len(d.Findings))
	}
	if d.Findings[0].Severity != "critical" || d.Findings[len(d.Findings)-1].Severity != "info" {
		t.Errorf("findings not sorted by severity: first %s, last %s", d.Findings[0].Severity, d.Findings[len(d.Findings)-1].Severity)
	}
	if d.Summary.Connections != 6 || d.Summary.HandshakesComplete != 2 || d.Summary.HandshakesFailed != 1 || d.Summary.Packets != 74 { // b.pcap's handshake lost bytes: not judged
		t.Errorf("summary = %+v", d.Summary)
	}
}

func TestCSVOneRowPerFinding(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(render(t, "csv", testResult(t), Options{}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], CSVHeader) {
		t.Errorf("header = %v", rows[0])
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows, want header + 6", len(rows))
	}
	for _, row := range rows[1:] {
		if row[9] != "" && strings.ContainsAny(row[9][:1], "=+-@") {
			t.Errorf("evidence %q would run as a spreadsheet formula", row[9])
		}
	}
}

func TestJUnitFailuresAtOrAboveFailOn(t *testing.T) {
	for _, tc := range []struct {
		failOn   facts.Severity
		failures int
	}{{facts.Info, 6}, {facts.Medium, 4}, {facts.High, 3}, {facts.Critical, 1}} {
		var doc JUnitSuites
		if err := xml.Unmarshal(render(t, "junit", testResult(t), Options{FailOn: tc.failOn}), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Suites) != 2 || len(doc.Suites[0].Cases) < 5 || len(doc.Suites[1].Cases) != 1 {
			t.Fatalf("suites %d: want 2 with 5 or more and 1 testcases", len(doc.Suites))
		}
		n := 0
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				n += len(c.Failures)
				if len(c.Failures) > 1 {
					t.Errorf("testcase %q has %d failures: one per testcase, as GitLab and Jenkins read them", c.Name, len(c.Failures))
				}
			}
		}
		if n != tc.failures || doc.Failures != tc.failures {
			t.Errorf("fail-on %s: %d failures (attr %d), want %d", tc.failOn, n, doc.Failures, tc.failures)
		}
	}
}

// TestJUnitOneFailurePerTestcase: a connection with two findings is two
// failing testcases (issue 20: 95 failures in 81 testcases on testdata).
func TestJUnitOneFailurePerTestcase(t *testing.T) {
	r := testResult(t)
	c := r.Captures[0]
	f := c.Findings[0]
	f.ID, f.Message = "second-finding", "a second finding of the same connection"
	c.Findings = append(c.Findings, f)
	var doc JUnitSuites
	if err := xml.Unmarshal(render(t, "junit", r, Options{FailOn: facts.Info}), &doc); err != nil {
		t.Fatal(err)
	}
	n, names := 0, map[string]bool{}
	for _, tc := range doc.Suites[0].Cases {
		if len(tc.Failures) > 1 {
			t.Errorf("testcase %q has %d failures", tc.Name, len(tc.Failures))
		}
		n += len(tc.Failures)
		names[tc.Name] = true
	}
	if n != len(c.Findings) || doc.Suites[0].Failures != n || len(names) != len(doc.Suites[0].Cases) {
		t.Errorf("%d failures (attr %d) in %d testcases (%d names) for %d findings", n, doc.Suites[0].Failures, len(doc.Suites[0].Cases), len(names), len(c.Findings))
	}
}

// TestSARIFValidatesAgainstSchema checks the SARIF output against the
// official OASIS SARIF 2.1.0 schema vendored in testdata.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Result{testResult(t), {Captures: []*Capture{{Name: "empty.pcap"}}}} {
		out := render(t, "sarif", r, Options{})
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("SARIF does not validate: %v\n%s", err, out)
		}
	}
	// The schema is strict enough to catch a wrong level.
	bad := bytes.Replace(render(t, "sarif", testResult(t), Options{}), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if sch.Validate(inst) == nil {
		t.Error("schema accepts level \"fatal\"")
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string
						Help struct{ Text string }
					}
				}
			}
			Results []struct {
				RuleID              string
				Level               string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
					LogicalLocations []struct{ Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(render(t, "sarif", testResult(t), Options{}), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 6 || len(run.Results) != 6 {
		t.Fatalf("%d rules, %d results; want 6 and 6", len(run.Tool.Driver.Rules), len(run.Results))
	}
	for _, ru := range run.Tool.Driver.Rules {
		if ru.ID == "cert-expired" && !strings.Contains(ru.Help.Text, "notAfter is before the check time") {
			t.Errorf("rule help not taken from the definitions: %q", ru.Help.Text)
		}
	}
	first := run.Results[0]
	if first.RuleID != "plaintext-credentials" || first.Level != "error" {
		t.Errorf("first result %s %s", first.RuleID, first.Level)
	}
	loc := first.Locations[0]
	if loc.PhysicalLocation.ArtifactLocation.URI != "a.pcap" || loc.LogicalLocations[0].Name != "10.0.0.5:40000 -> 10.0.0.9:21" {
		t.Errorf("location = %+v", loc)
	}
	seen := map[string]bool{}
	for _, res := range run.Results {
		fp := res.PartialFingerprints["tlsscopeFinding/v1"]
		if fp == "" || seen[fp] {
			t.Errorf("fingerprint %q missing or repeated", fp)
		}
		seen[fp] = true
	}
}

func TestMarkdownHasSections(t *testing.T) {
	out := string(render(t, "markdown", testResult(t), Options{}))
	for _, want := range []string{"## tlsscope report", "### Findings (6)", "### Connections in a.pcap (5)", "| critical | `plaintext-credentials` |"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// TestTableFitsWidth: no line of the table report is wider than the
// terminal; addresses, SNIs, ids and the worst finding's id are never cut
// (columns give way, dropped or folded under their row, instead); without
// a width every column is there and nothing is cut or folded.
func TestTableFitsWidth(t *testing.T) {
	r := testResult(t)
	var whole []string // values that must appear uncut
	for _, c := range r.Captures {
		for _, conn := range c.Connections {
			whole = append(whole, facts.Endpoint(conn.Server), fmt.Sprintf("#%d", conn.ID))
			if sni := conn.SNI(); sni != "" {
				whole = append(whole, sni)
			}
		}
		for _, f := range c.Findings {
			whole = append(whole, f.ID, f.Severity.String()+" "+f.ID)
		}
	}
	if len(whole) < 20 {
		t.Fatalf("only %d values to look for", len(whole))
	}
	for _, width := range []int{80, 100, 132, 0} {
		out := string(render(t, "table", r, Options{Width: width}))
		for i, line := range strings.Split(out, "\n") {
			if n := textWidth(line); width > 0 && n > width {
				t.Errorf("width %d: line %d is %d columns: %q", width, i+1, n, line)
			}
		}
		for _, v := range whole {
			if !strings.Contains(out, v) {
				t.Errorf("width %d: %q not printed whole", width, v)
			}
		}
		want := []string{"ID", "SERVER", "TLS", "SUITE", "STATUS", "Findings: 6", "Summary", "Fingerprints: 3 distinct JA4"}
		if width == 0 {
			want = append(want, "CLIENT", "SNI", "ALPN", "CERT", "WORST")
			for _, l := range strings.Split(out, "\n") {
				// (evidence masks secrets with an ellipsis of its own)
				if strings.Contains(l, "…") && !strings.HasPrefix(l, "    evidence: ") || strings.HasPrefix(l, "    sni: ") || strings.HasPrefix(l, "    worst: ") {
					t.Errorf("no width: a value cut or folded: %q", l)
				}
			}
		} else if width == 80 && !strings.Contains(out, "    worst: medium tls-version-deprecated") {
			t.Errorf("width 80: the worst finding is not folded under its row:\n%s", out)
		}
		for _, h := range want {
			if !strings.Contains(out, h) {
				t.Errorf("width %d: table lacks %q", width, h)
			}
		}
	}
}

func TestShortSuite(t *testing.T) {
	for in, want := range map[string]string{
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256":         "ECDHE-RSA-AES128-GCM-SHA256",
		"TLS_AES_256_GCM_SHA384":                        "AES256-GCM-SHA384",
		"TLS_CHACHA20_POLY1305_SHA256":                  "CHACHA20-POLY1305-SHA256",
		"TLS_RSA_WITH_3DES_EDE_CBC_SHA":                 "RSA-3DES-CBC-SHA",
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305-SHA256",
		"TLS_RSA_WITH_RC4_128_MD5":                      "RSA-RC4-MD5",
		"0x1234":                                        "0x1234",
	} {
		if got := ShortSuite(in); got != want {
			t.Errorf("ShortSuite(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTruncateEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"10.0.0.1:443", 20, "10.0.0.1:443"},
		{"[2a00:1450:4001:82b::200e]:443", 20, "[2a00:…:200e]:443"},
		{"192.168.100.123:54321", 16, "192.1….123:54321"},
		{"[2001:db8:1234:5678:9abc:def0:1234:5678]:50000", 14, "[200…78]:50000"},
	} {
		got := truncateEndpoint(tc.in, tc.n)
		if got != tc.want || utf8.RuneCountInString(got) > tc.n {
			t.Errorf("truncateEndpoint(%s, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestSARIFRulesFallBackToDefinitions: an id the Result does not describe
// takes its help and reference from decode/rules' table.
func TestSARIFRulesFallBackToDefinitions(t *testing.T) {
	defs := rules.Definitions()
	if len(defs) == 0 {
		t.Skip("no rule definitions")
	}
	d := defs[0]
	r := &Result{Captures: []*Capture{{Name: "x.pcap", Findings: []facts.Finding{{ID: d.ID, Severity: d.Severity, Capture: "x.pcap", Message: "m"}}}}}
	out := string(render(t, "sarif", r, Options{}))
	if !strings.Contains(out, jsonString(d.Help)) || (d.Reference != "" && !strings.Contains(out, d.Reference)) {
		t.Errorf("rule %s: help or reference not from the definitions:\n%s", d.ID, out)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func mustFormat(t *testing.T, name string) Format {
	t.Helper()
	f, ok := LookupFormat(name)
	if !ok {
		t.Fatalf("format %s not in the table", name)
	}
	return f
}
