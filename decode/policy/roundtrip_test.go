package policy

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestBaselineRoundTripsAnySNI (issue 19): a baseline of findings whose
// SNIs are YAML syntax, control characters or glob characters reads back
// (Parse) with the same suppressions, and each suppresses its own
// finding and not a look-alike; over every SNI tshark reads in the
// corpus too.
func TestBaselineRoundTripsAnySNI(t *testing.T) {
	snis := []string{"? k", "- a", "*.example.com", "[a, b]", "a\x00b", "cr\rlf\n", "&anchor", "*alias", "!tag", "#c", "key: value", "'q'", `"dq"`, `back\slash`, "tab\there", "\u202eevil", "yes", "null", "0x10", "1e3", "~", "%x", "@at", "`tick`", " lead", "trail ", "[", "?"}
	n := 0
	filepath.Walk(testutil.Corpus(t), func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".tshark.tsv") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		col := -1
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			if col < 0 {
				for i, h := range fs {
					if h == "tls.handshake.extensions_server_name" {
						col = i
					}
				}
				if col < 0 {
					return nil
				}
				continue
			}
			if col < len(fs) && fs[col] != "" {
				snis = append(snis, fs[col])
				n++
			}
		}
		return nil
	})
	if n < 100 {
		t.Errorf("only %d SNIs from the corpus", n)
	}
	var fs []facts.Finding
	for i, s := range snis {
		fs = append(fs, facts.Finding{ID: "cert-expired", Severity: facts.High, Capture: "a.pcap", SNI: s, Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 443), Evidence: "x"})
	}
	base := Baseline(fs, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	b, err := base.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatalf("the baseline does not read back: %v", err)
	}
	if len(p.Suppress) != len(base.Suppress) {
		t.Fatalf("%d suppressions read back, %d written", len(p.Suppress), len(base.Suppress))
	}
	for i := range base.Suppress {
		w, g := base.Suppress[i], p.Suppress[i]
		if w.SNI != g.SNI || w.Reason != g.Reason || w.Server != g.Server || w.ID != g.ID || w.Fingerprint != g.Fingerprint {
			t.Errorf("suppression %d: read back %+v, written %+v", i, g, w)
		}
	}
	// Each suppresses its own finding; "*.example.com" as an SNI does not
	// suppress www.example.com on the same server.
	if a := p.Apply(fs, time.Now()); len(a.Kept) != 0 {
		t.Errorf("%d findings kept by their own baseline: %v", len(a.Kept), a.Kept[0])
	}
	other := fs[2]
	other.SNI = "www.example.com"
	for i := range p.Suppress {
		p.Suppress[i].Fingerprint = "" // match by SNI and server alone
	}
	if a := p.Apply([]facts.Finding{other}, time.Now()); len(a.Kept) != 1 {
		t.Errorf("a suppression of the SNI %q suppressed %q", fs[2].SNI, other.SNI)
	}
}

// TestPolicySizeBounded: a policy over MaxSize is refused with a clear
// error before it is parsed.
func TestPolicySizeBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	big := "version: 1\nsuppress:\n" + strings.Repeat("  - id: cert-expired\n    reason: x\n", MaxSize/30)
	if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "reading policy "+path+": over 8 MiB") {
		t.Errorf("Load of a %d-byte policy: %v", len(big), err)
	}
}
