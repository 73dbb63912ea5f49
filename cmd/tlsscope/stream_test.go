package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// TestStreamingPrintsAsItGoes replays a capture through the live path:
// one NDJSON connection line per handshake (3 in ssl.v3.pcap, per tshark's
// oracle), then the summary; --count stops early.
func TestStreamingPrintsAsItGoes(t *testing.T) {
	in := filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/ssl.v3.pcap")
	for _, tc := range []struct {
		args        []string
		conns       int
		lastType    string
		wantPackets float64
	}{
		{[]string{"-i", "replay", "--format", "ndjson"}, 3, "summary", 252},
		{[]string{"-i", "replay", "--format", "ndjson", "-c", "10"}, 1, "summary", 10},
	} {
		cfg, err := parseArgs(tc.args, false)
		if err != nil {
			t.Fatal(err)
		}
		var stderr, out bytes.Buffer
		if _, err := streamFile(cfg, in, &out, &stderr); err != nil {
			t.Fatal(err)
		}
		recs := records(t, out.String())
		n := 0
		for _, r := range recs {
			if r["type"] == "connection" {
				n++
			}
		}
		last := recs[len(recs)-1]
		if n != tc.conns || last["type"] != tc.lastType || last["packets"] != tc.wantPackets {
			t.Errorf("%q: %d connection lines, last %v with %v packets", tc.args, n, last["type"], last["packets"])
		}
	}
	cfg, _ := parseArgs([]string{"-i", "replay", "--width", "80"}, false)
	var out bytes.Buffer
	streamFile(cfg, in, &out, &out)
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "RSA-RC4") || !strings.Contains(out.String(), "Summary") {
		t.Errorf("table stream:\n%s", out.String())
	}
	// Live table mode prints each finding's message and evidence under its
	// connection's row as it becomes known (the README's promise), the
	// same findings as the NDJSON stream: tshark shows TLS 1.0 with
	// RSA-RC4-MD5 on all three connections, so at least three
	// deprecated-version and three weak-cipher findings.
	cfg, _ = parseArgs([]string{"-i", "replay", "--format", "ndjson"}, false)
	var nd bytes.Buffer
	streamFile(cfg, in, &nd, io.Discard)
	n, ids := 0, map[string]int{}
	for _, r := range records(t, nd.String()) {
		if r["type"] != "finding" {
			continue
		}
		ids[r["id"].(string)]++
		head := fmt.Sprintf("    %s %s: %s", r["severity"], r["id"], strings.Fields(r["message"].(string))[0])
		if !strings.Contains(out.String(), "\n"+head) {
			t.Errorf("table stream lacks %q", head)
		}
		if ev, _ := r["evidence"].(string); ev != "" && !strings.Contains(out.String(), "\n      evidence: "+strings.Fields(ev)[0]) {
			t.Errorf("table stream lacks the evidence of %s (%q)", r["id"], ev)
		}
		n++
	}
	if ids["deprecated-version"] < 3 || ids["weak-cipher"] < 3 || n < 6 {
		t.Errorf("%d findings compared (%v), want deprecated-version and weak-cipher on 3 connections each", n, ids)
	}
}

// streamFile replays a capture file through the live path.
func streamFile(cfg *config, path string, stdout, stderr io.Writer) (*report.Result, error) {
	an, err := newAnalyzer(cfg, stderr, nil)
	if err != nil {
		return nil, err
	}
	f, err := tlsscope.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return stream(an, cfg, f, stdout, stderr)
}

// TestLiveRotate replays a capture through the live path with --rotate:
// the ecs events go to the named file and its rotated predecessors, each
// file at most the size asked (lines are never split), nothing to
// standard output, and together they hold exactly the events the same
// run prints to standard output without --rotate. Bad uses of --rotate are usage errors.
func TestLiveRotate(t *testing.T) {
	in := filepath.Join(testutil.Pcaps(t), "cert-expired.pcap")
	dir := t.TempDir()
	path := filepath.Join(dir, "tlsscope.ecs.ndjson")
	var want []byte
	for _, args := range [][]string{
		{"-i", "replay", "--format", "ecs"},
		{"-i", "replay", "--format", "ecs=" + path, "--rotate", "2k"},
	} {
		cfg, err := parseArgs(args, false)
		if err != nil {
			t.Fatal(err)
		}
		var out, stderr bytes.Buffer
		if _, err := streamFile(cfg, in, &out, &stderr); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.rotate.On() && out.Len() > 0 {
			t.Errorf("%q: standard output %q", args, out.String())
		}
		if want == nil {
			want = out.Bytes()
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "tlsscope.*ecs.ndjson"))
	var got []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 2048 && bytes.Count(b, []byte("\n")) > 1 {
			t.Errorf("%s: %d bytes", f, len(b))
		}
		got = append(got, strings.SplitAfter(string(b), "\n")...)
	}
	wantLines := strings.SplitAfter(string(want), "\n")
	slices.Sort(got)
	slices.Sort(wantLines)
	got = slices.DeleteFunc(got, func(s string) bool { return s == "" })
	wantLines = slices.DeleteFunc(wantLines, func(s string) bool { return s == "" })
	if len(files) < 2 || !slices.Equal(got, wantLines) {
		t.Errorf("%d files, %d lines; want the %d lines of an unrotated run", len(files), len(got), len(wantLines))
	}
	for _, args := range [][]string{
		{"--rotate", "1h", in},
		{"-i", "lo", "--rotate", "1h"},
		{"-i", "lo", "--rotate", "1h", "--format", "json=x.json"},
		{"-i", "lo", "--rotate", "1h", "--format", "ecs=a", "--format", "ecs=b"},
		{"-i", "lo", "--rotate", "0", "--format", "ecs=a"},
	} {
		if _, err := parseArgs(args, false); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
