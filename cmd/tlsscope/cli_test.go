package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
