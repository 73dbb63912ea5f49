package tlsscope_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// TestQUICInEveryRun: the root package follows QUIC by default, in whole
// runs with one worker and with three, streamed NDJSON, and a live-style
// run: each capture gives as many QUIC connections as tshark's UDP
// ClientHellos, with transport quic on their NDJSON lines and tcp on the
// others.
func TestQUICInEveryRun(t *testing.T) {
	corpus := testutil.Corpus(t)
	compared := testutil.MinCompared(t, 3*13+13, "QUIC connections in runs")
	for _, rel := range []string{"suricata-verify/tests/ja4-quic/input.pcap", "ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng",
		"zeek/testing/btest/Traces/quic/chromium-dpd-custom-port-4433.pcap"} {
		pcap := filepath.Join(corpus, rel)
		want := 0
		for _, h := range oracle.Hellos(t, pcap) {
			if h.UDP && h.Type == 1 {
				want++
			}
		}
		for _, workers := range []int{1, 3} {
			a, err := tlsscope.New(tlsscope.Config{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.AnalyzeFiles(context.Background(), pcap)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, c := range res.Captures[0].Connections {
				if c.Transport == facts.QUIC && c.TLS != nil && c.TLS.ClientHello != nil {
					got++
				}
			}
			compared.Add(got)
			if got != want {
				t.Errorf("%s, %d workers: %d QUIC connections, tshark %d ClientHellos", rel, workers, got, want)
			}
		}
		a, _ := tlsscope.New(tlsscope.Config{})
		var buf bytes.Buffer
		if _, err := a.StreamFiles(context.Background(), &buf, report.Options{}, pcap); err != nil {
			t.Fatal(err)
		}
		if got := quicLines(t, buf.Bytes()); got != want {
			t.Errorf("%s streamed: %d connection lines with transport quic, want %d", rel, got, want)
		} else {
			compared.Add(got)
		}
		src, err := tlsscope.OpenFile(pcap)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		out, err := report.NewStream(&buf, "ndjson", report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.StreamLive(context.Background(), src, out, false); err != nil {
			t.Fatal(err)
		}
		if got := quicLines(t, buf.Bytes()); got != want {
			t.Errorf("%s live: %d connection lines with transport quic, want %d", rel, got, want)
		} else {
			compared.Add(got)
		}
	}
}

// quicLines counts the connection lines with transport quic, and fails
// on a connection line whose transport is not quic, tcp or udp (DTLS), or
// whose quic object does not go with it.
func quicLines(t *testing.T, ndjson []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(ndjson))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Type      string          `json:"type"`
			Transport string          `json:"transport"`
			QUIC      json.RawMessage `json:"quic"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Type != "connection" {
			continue
		}
		switch {
		case r.Transport == "quic" && string(r.QUIC) != "null":
			n++
		case (r.Transport == "tcp" || r.Transport == "udp") && string(r.QUIC) == "null":
		default:
			t.Errorf("connection line with transport %q, quic %s", r.Transport, r.QUIC)
		}
	}
	return n
}

// TestDTLSInRuns: the root package follows DTLS by default too: Zeek's
// DTLS 1.2 capture is one connection, transport udp, protocol dtls, with
// tshark's JA3.
func TestDTLSInRuns(t *testing.T) {
	pcap := filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/dtls1_2.pcap")
	for _, workers := range []int{1, 3} {
		a, err := tlsscope.New(tlsscope.Config{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.AnalyzeFiles(context.Background(), pcap)
		if err != nil {
			t.Fatal(err)
		}
		conns := res.Captures[0].Connections
		// tshark: dtls.handshake.ja3 of the second ClientHello (frame 5).
		if len(conns) != 1 || conns[0].Transport != facts.UDP || conns[0].Protocol != "dtls" || conns[0].Fingerprints.JA3 != "3c3d129780d0066cd8936a6291a8d44f" {
			t.Errorf("%d workers: %d connections: %+v", workers, len(conns), conns)
		}
	}
}
