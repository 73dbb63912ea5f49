package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// runPaths runs the command line twice: streamed (NDJSON written as
// connections close) and with the whole facts kept to the end (the path
// every other format takes), returning both outputs.
func runPaths(t *testing.T, args ...string) (streamed, whole string, codes [2]int) {
	t.Helper()
	for i, keepAll := range []bool{false, true} {
		cfg, err := parseArgs(args, false)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && !streamsFiles(cfg) {
			t.Fatalf("%q does not stream", args)
		}
		cfg.keepAll = keepAll
		var out, stderr bytes.Buffer
		code, err := analyzeAndReport(cfg, &out, &stderr)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		codes[i] = code
		if i == 0 {
			streamed = out.String()
		} else {
			whole = out.String()
		}
	}
	return streamed, whole, codes
}

func lines(s string) []string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(l) == 1 && l[0] == "" {
		return nil
	}
	return l
}

// truncatedCopy is a recorded capture cut inside its last packet: the
// reader reports a truncated capture, an anomaly of no connection.
func truncatedCopy(t *testing.T, src string) string {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut-"+filepath.Base(src))
	if err := os.WriteFile(p, b[:len(b)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkGroups: in streamed output each connection line is followed by its
// own HTTP and finding lines, each capture ends with its summary and the
// run with the total.
func checkGroups(t *testing.T, name string, recs []map[string]any) {
	t.Helper()
	var conn any
	captures := 0
	for i, r := range recs {
		switch r["type"] {
		case "connection":
			conn = r["id"]
		case "http", "finding":
			if r["connection"] != conn {
				t.Errorf("%s: line %d: %s of connection %v after connection %v", name, i+1, r["type"], r["connection"], conn)
			}
		case "summary":
			conn = nil
			if r["scope"] == "capture" {
				captures++
			} else if i != len(recs)-1 {
				t.Errorf("%s: total summary on line %d of %d", name, i+1, len(recs))
			}
		default:
			conn = nil
		}
	}
	if last := recs[len(recs)-1]; last["type"] != "summary" || last["scope"] != "total" {
		t.Errorf("%s: last line %v", name, last)
	}
}

// TestStreamedNDJSONEqualsWhole: an NDJSON run that writes each connection
// as it closes prints the same connection, HTTP, finding and anomaly
// records and the same summaries as the run that keeps everything to the
// end (only the order of groups may differ), with --sni selections and a
// policy too, on the recorded captures and corpus files.
func TestStreamedNDJSONEqualsWhole(t *testing.T) {
	dir, m := loadManifest(t)
	var all []string
	for _, c := range m.Captures {
		all = append(all, filepath.Join(dir, c.Pcap))
	}
	corpus := testutil.Corpus(t)
	ja4 := filepath.Join(corpus, "ja4/pcap")
	// badcurveball: one connection with a tls_bad_certificate anomaly
	// (crypto/x509 cannot parse its explicit-curve certificate).
	corpusFiles := []string{filepath.Join(ja4, "badcurveball.pcap"), filepath.Join(ja4, "tls3.pcapng"),
		filepath.Join(ja4, "latest.pcapng"), truncatedCopy(t, filepath.Join(dir, "http-basic-auth.pcap"))}
	policy := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(policy, []byte("min_version: TLS 1.3\nsuppress:\n  - id: cert-expired\n    reason: test\n"), 0o644)
	ca := caFile(t)
	for _, tc := range []struct {
		name  string
		args  []string
		types []string // record types the output must hold
	}{
		{"recorded", append([]string{"--ca-file", ca}, all...), []string{"connection", "http", "finding", "summary"}},
		{"corpus", corpusFiles, []string{"connection", "http", "finding", "anomaly", "summary"}},
		{"sni kept", append([]string{"--sni", "*curveball*"}, corpusFiles...), []string{"connection", "finding", "anomaly"}},
		{"sni none", append([]string{"--sni", "nothing.invalid"}, corpusFiles...), []string{"anomaly", "summary"}},
		{"policy", append([]string{"--ca-file", ca, "--policy", policy}, all[:min(len(all), 20)]...), []string{"connection", "finding"}},
	} {
		args := append([]string{"-q", "--format", "ndjson"}, tc.args...)
		start := time.Now()
		streamed, whole, _ := runPaths(t, args...)
		s, w := lines(streamed), lines(whole)
		if len(s) == 0 {
			t.Fatalf("%s: no output", tc.name)
		}
		slices.Sort(s)
		slices.Sort(w)
		if !slices.Equal(s, w) {
			for _, l := range s {
				if !slices.Contains(w, l) {
					t.Errorf("%s: streamed only: %.300s", tc.name, l)
				}
			}
			for _, l := range w {
				if !slices.Contains(s, l) {
					t.Errorf("%s: whole only: %.300s", tc.name, l)
				}
			}
			continue
		}
		recs := records(t, streamed)
		checkGroups(t, tc.name, recs)
		t.Logf("%s: %d lines, %v", tc.name, len(recs), time.Since(start))
		for _, typ := range tc.types {
			if !slices.ContainsFunc(recs, func(r map[string]any) bool { return r["type"] == typ }) {
				t.Errorf("%s: no %s record", tc.name, typ)
			}
		}
	}
}

// TestStreamedFailOn: --fail-on's exit code from the streamed path, per
// capture against the severities of the findings its manifest lists
// (decode/rules' definitions): 1 at the worst one, 0 above it.
func TestStreamedFailOn(t *testing.T) {
	dir, m := loadManifest(t)
	ca := caFile(t)
	tried := 0
	for _, c := range m.Captures {
		if len(c.Findings) == 0 || tried == 6 {
			continue
		}
		worst := facts.Info
		for _, id := range c.Findings {
			d, ok := rules.Lookup(id)
			if !ok {
				t.Fatalf("%s: manifest finding %s has no definition", c.Pcap, id)
			}
			worst = max(worst, d.Severity)
		}
		tried++
		in := filepath.Join(dir, c.Pcap)
		_, _, codes := runPaths(t, "-q", "--ca-file", ca, "--format", "ndjson", "--fail-on", worst.String(), in)
		if codes != [2]int{exitFindings, exitFindings} {
			t.Errorf("%s: --fail-on %s: exit %d streamed, %d whole, want %d", c.Pcap, worst, codes[0], codes[1], exitFindings)
		}
		if worst == facts.Critical {
			continue
		}
		above := worst + 1
		if _, _, codes := runPaths(t, "-q", "--ca-file", ca, "--format", "ndjson", "--fail-on", above.String(), in); codes != [2]int{exitOK, exitOK} {
			t.Errorf("%s: --fail-on %s: exit %d streamed, %d whole, want 0", c.Pcap, above, codes[0], codes[1])
		}
	}
	if tried == 0 {
		t.Fatal("no capture with findings in the manifest")
	}
}

// TestStreamedFiles: NDJSON files are written beside and renamed when the
// run ends, the same lines as standard output; a run that fails part way
// leaves no file and no temporary file behind.
func TestStreamedFiles(t *testing.T) {
	dir := t.TempDir()
	in := pcap(t, "cert-good.pcap")
	out := filepath.Join(dir, "sub", "out.ndjson")
	code, stdout, stderr := runCLI(t, "-q", "--format", "ndjson", "--format", "ndjson="+out, in, pcap(t, "http-basic-auth.pcap"))
	b, err := os.ReadFile(out)
	if code != 0 || err != nil || string(b) != stdout || len(lines(stdout)) < 4 {
		t.Fatalf("exit %d (%s), file %v: %d bytes, stdout %d bytes", code, stderr, err, len(b), len(stdout))
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	// The second input is not a capture: the first was already streamed
	// to standard output, but no file is left.
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all, not at all"), 0o644)
	out2 := filepath.Join(dir, "fail.ndjson")
	code, _, stderr = runCLI(t, "-q", "--format", "ndjson="+out2, in, bad)
	if code != exitUsage || !strings.Contains(stderr, "bad.pcap") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"bad.pcap", "sub"}) {
		t.Errorf("left in the output directory: %v", names)
	}
}

// BenchmarkNDJSONRetained: heap still held when an NDJSON run has written
// its output, per connection, streamed and whole (the recorded captures,
// each read 8 times); streamed should be ~0 and not grow with the input.
func BenchmarkNDJSONRetained(b *testing.B) {
	dir := testutil.Pcaps(b)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(files) == 0 {
		b.Skip("no recorded captures")
	}
	var many []string
	for range 8 {
		many = append(many, files...)
	}
	for _, keepAll := range []bool{false, true} {
		b.Run(fmt.Sprintf("keepAll=%v", keepAll), func(b *testing.B) {
			for b.Loop() {
				cfg, err := parseArgs(append([]string{"-q", "--format", "ndjson", "--workers", "1"}, many...), false)
				if err != nil {
					b.Fatal(err)
				}
				cfg.keepAll = keepAll
				an, err := newAnalyzer(cfg, os.Stderr, nil)
				if err != nil {
					b.Fatal(err)
				}
				var ms0, ms1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				var r *report.Result
				if keepAll {
					if r, err = analyzeFiles(an, cfg, many, os.Stderr); err == nil {
						err = writeOutputs(cfg, r, io.Discard, false)
					}
				} else {
					r, err = streamFiles(an, cfg, many, io.Discard, os.Stderr)
				}
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				conns := r.Counts().Connections
				b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(conns), "retained-B/conn")
				runtime.KeepAlive(r)
			}
		})
	}
}

// TestLiveSummaryFromTally: the live path (a capture replayed as an
// interface), which keeps nothing of a closed connection, ends with the
// same summary as a file run that keeps the whole facts, with a --sni
// selection and a policy too.
func TestLiveSummaryFromTally(t *testing.T) {
	ca := caFile(t)
	policy := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(policy, []byte("min_version: TLS 1.3\n"), 0o644)
	for _, tc := range []struct {
		pcap string
		args []string
	}{
		{"cert-expired.pcap", nil},
		{"http-basic-auth.pcap", nil},
		{"tls12-ecdhe-rsa-openssl.pcap", []string{"--policy", policy}},
		{"cert-good.pcap", []string{"--sni", "nothing.invalid"}},
	} {
		in := pcap(t, tc.pcap)
		args := append([]string{"-q", "--ca-file", ca, "--format", "ndjson"}, tc.args...)
		_, whole, _ := runPaths(t, append(args, in)...)
		cfg, err := parseArgs(append(args, "-i", "replay"), false)
		if err != nil {
			t.Fatal(err)
		}
		var stderr, out bytes.Buffer
		if _, err := streamFile(cfg, in, &out, &stderr); err != nil {
			t.Fatal(err)
		}
		live, file := records(t, out.String()), records(t, whole)
		got, want := live[len(live)-1], file[len(file)-1]
		if fmt.Sprint(got) != fmt.Sprint(want) || want["connections"] == nil {
			t.Errorf("%s %q: live summary\n%v\nfile summary\n%v", tc.pcap, tc.args, got, want)
		}
	}
}
