package tlsscope_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// TestOutcomeOneMeaning: one set of status words, one meaning each
// (issue 20). On every capture of the corpus and testdata/pcaps, a
// connection has a handshake-failed finding exactly when its outcome is a
// failure, the summary's failed count is the number of such connections,
// and the table's status is the outcome's word.
func TestOutcomeOneMeaning(t *testing.T) {
	var pcaps []string
	for _, root := range []string{testutil.Corpus(t), testutil.Pcaps(t)} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
				pcaps = append(pcaps, p)
			}
			return nil
		})
	}
	compared := testutil.MinCompared(t, 300, "TLS connections judged")
	a, err := tlsscope.New(tlsscope.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pcaps {
		res, err := a.AnalyzeFiles(context.Background(), p)
		if err != nil {
			continue // damaged captures are other tests' business
		}
		for _, capt := range res.Captures {
			byConn := map[uint64][]string{}
			for _, f := range capt.Findings {
				byConn[f.ConnID] = append(byConn[f.ConnID], f.ID)
			}
			failed := 0
			for _, c := range capt.Connections {
				o := c.HandshakeOutcome()
				if c.TLS == nil {
					continue
				}
				compared.Add(1)
				has := slices.Contains(byConn[c.ID], "handshake-failed")
				if o.Failed() != has {
					t.Errorf("%s %v -> %v: outcome %q, handshake-failed finding %v", p, c.Client, c.Server, o, has)
				}
				if o.Failed() {
					failed++
				}
				if st := report.Status(c); !strings.HasPrefix(st, o.String()) {
					t.Errorf("%s %v -> %v: status %q, outcome %q", p, c.Client, c.Server, st, o)
				}
			}
			if h := report.CountHandshakes(capt.Connections); h.Failed != failed {
				t.Errorf("%s: summary failed %d, connections failed %d", p, h.Failed, failed)
			}
		}
	}
}

// TestOutcomeMidStream: latest.pcapng's connection to 34.233.109.138:443
// was captured after its handshake; tshark sees application data both
// ways and no handshake message on it. It said "no reply" (issue 20).
func TestOutcomeMidStream(t *testing.T) {
	pcap := filepath.Join(testutil.Corpus(t), "ja4/pcap/latest.pcapng")
	tshark := testutil.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-r", pcap, "-Y", "ip.addr==34.233.109.138 && tls.record",
		"-T", "fields", "-e", "ip.src", "-e", "tls.record.content_type").Output()
	if err != nil {
		t.Fatal(err)
	}
	fromServer := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 2 || strings.Contains(f[1], "22") {
			t.Fatalf("tshark: %q is not application data only", line)
		}
		fromServer = fromServer || f[0] == "34.233.109.138"
	}
	if !fromServer {
		t.Fatalf("tshark: no record from the server: %q", out)
	}
	a, err := tlsscope.New(tlsscope.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.AnalyzeFiles(context.Background(), pcap)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range res.Captures[0].Connections {
		if c.Server.Addr().String() != "34.233.109.138" {
			continue
		}
		n++
		if o := c.HandshakeOutcome(); o != facts.OutcomeMidStream || report.Status(c) != "mid-stream" {
			t.Errorf("outcome %q, status %q; want mid-stream", o, report.Status(c))
		}
	}
	if n != 1 {
		t.Fatalf("%d connections to 34.233.109.138", n)
	}
}
