package main

import (
	"github.com/tlsscope/tlsscope"

	"bytes"
	"strings"
	"testing"
	"time"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestUsageErrors: bad flags and bad combinations exit 2 before any work,
// with a tlsscope: error line that says what is wrong.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "tlsscope: error: no input"},
		{[]string{"--bogus", "x.pcap"}, "unknown flag: --bogus"},
		{[]string{"--format", "yaml", "x.pcap"}, `unknown format "yaml"`},
		{[]string{"--format", "sarif", "--format", "csv", "x.pcap"}, "2 formats would go to standard output"},
		{[]string{"-o", "a.json", "--output-dir", "d", "x.pcap"}, "-o and --output-dir cannot be used together"},
		{[]string{"--format", "csv", "--format", "json", "-o", "a", "x.pcap"}, "-o a: 2 formats have no file"},
		{[]string{"--fail-on", "urgent", "x.pcap"}, `--fail-on: unknown severity "urgent"`},
		{[]string{"--check-time", "yesterday", "x.pcap"}, "--check-time"},
		{[]string{"--expiry-warn", "soon", "x.pcap"}, `--expiry-warn: "soon" is not a duration`},
		{[]string{"-c", "10", "x.pcap"}, "--count applies to live capture only"},
		{[]string{"-i", "eth0", "x.pcap"}, "cannot read capture files and capture on -i eth0 at once"},
		{[]string{"--max-buffer", "lots", "x.pcap"}, "--max-buffer"},
		{[]string{"-i", "eth0", "--format", "sarif"}, "--format sarif needs a file"},
		{[]string{"testdata/does-not-exist.pcap"}, "tlsscope: error: reading testdata/does-not-exist.pcap: no such file"},
		{[]string{"testdata/nomatch-*.pcap"}, "no files match testdata/nomatch-*.pcap"},
		{[]string{"-f", "tcp port", "x.pcap"}, `bad filter "tcp port": port needs a number`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: stderr %q, want it to contain %q", tc.args, stderr, tc.want)
		}
		if !strings.HasPrefix(stderr, "tlsscope: error: ") || strings.HasSuffix(strings.SplitN(stderr, "\n", 2)[0], ".") {
			t.Errorf("%q: %q is not in the house style", tc.args, stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 80 {
			t.Errorf("--help line wider than 80 columns: %q", l)
		}
	}
	if code, out, _ := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(out, "tlsscope "+tlsscope.Version()+" ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestOutputDesign(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []output
	}{
		{[]string{"x"}, []output{{"table", ""}}},
		{[]string{"-o", "r.sarif", "x"}, []output{{"sarif", "r.sarif"}}},
		{[]string{"--format", "ndjson", "--format", "sarif=r.sarif", "x"}, []output{{"ndjson", ""}, {"sarif", "r.sarif"}}},
		{[]string{"--format", "junit", "-o", "j.xml", "x"}, []output{{"junit", "j.xml"}}},
		{[]string{"--format", "csv,markdown", "--output-dir", "out", "x"}, []output{{"csv", "out/tlsscope.csv"}, {"markdown", "out/tlsscope.md"}}},
		{[]string{"--format", "sarif", "-o", "-", "x"}, []output{{"sarif", ""}}},
	} {
		cfg, err := parseArgs(tc.args, false)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if len(cfg.outputs) != len(tc.want) {
			t.Errorf("%q: outputs %v, want %v", tc.args, cfg.outputs, tc.want)
			continue
		}
		for i := range tc.want {
			if cfg.outputs[i] != tc.want[i] {
				t.Errorf("%q: outputs %v, want %v", tc.args, cfg.outputs, tc.want)
			}
		}
	}
}

func TestParseDurationAndSize(t *testing.T) {
	if d, err := parseDuration("30d"); err != nil || d != 30*24*time.Hour {
		t.Errorf("30d = %v, %v", d, err)
	}
	if d, err := parseDuration("90m"); err != nil || d != 90*time.Minute {
		t.Errorf("90m = %v, %v", d, err)
	}
	if n, err := parseSize("4MiB"); err != nil || n != 4<<20 {
		t.Errorf("4MiB = %v, %v", n, err)
	}
	if n, err := parseSize("512"); err != nil || n != 512 {
		t.Errorf("512 = %v, %v", n, err)
	}
}
