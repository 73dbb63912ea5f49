package main

import (
	"bytes"
	"io"
	"path/filepath"
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
