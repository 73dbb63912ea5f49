package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// parsedHello is a wireHello parsed by decode/tls.
type parsedHello struct {
	wireHello
	CH *tls.ClientHello
	SH *tls.ServerHello
}

// parseHellos parses every TCP hello tshark extracted with decode/tls
// (ParseClientHello, ParseServerHello, and ParseSSLv2ClientHello for an
// SSLv2-format CLIENT-HELLO).
func parseHellos(t *testing.T, pcap string) []parsedHello {
	t.Helper()
	var out []parsedHello
	for _, w := range tsharkHellos(t, pcap) {
		p := parsedHello{wireHello: w}
		if w.UDP {
			// QUIC (or DTLS): out of scope; kept so callers can count it.
			out = append(out, p)
			continue
		}
		var err error
		switch {
		case w.SSLv2:
			p.CH, err = tls.ParseSSLv2ClientHello(w.Body)
		case w.Type == 1:
			p.CH, err = tls.ParseClientHello(w.Body)
		default:
			p.SH, err = tls.ParseServerHello(w.Body)
		}
		if p.CH == nil && p.SH == nil {
			t.Errorf("%s frame %d: tshark dissected a hello decode/tls rejects: %v", filepath.Base(pcap), w.Frame, err)
			continue
		}
		if err != nil {
			// A malformed extension: the rest of the hello was read.
			t.Logf("%s frame %d: %v", filepath.Base(pcap), w.Frame, err)
		}
		out = append(out, p)
	}
	return out
}

// clientHellosByStream groups the TCP ClientHellos by tcp.stream, in order,
// and counts the QUIC ones skipped.
func clientHellosByStream(hs []parsedHello) (tcp map[int][]*tls.ClientHello, quic int) {
	tcp = make(map[int][]*tls.ClientHello)
	for _, h := range hs {
		switch {
		case h.UDP && h.Type == 1:
			quic++
		case h.CH != nil:
			tcp[h.Stream] = append(tcp[h.Stream], h.CH)
		}
	}
	return tcp, quic
}

// TestJA4FoxIOExpected compares JA4 and JA4_r of every TCP ClientHello in
// FoxIO's captures with FoxIO's expected output: python/test/testdata
// (JA4.n and JA4_r.n, the n-th ClientHello of a stream) and the rust insta
// snapshots (ja4 of a stream's first ClientHello). QUIC ClientHellos are out
// of scope and only counted.
func TestJA4FoxIOExpected(t *testing.T) {
	dir := filepath.Join(testutil.Corpus(t), "ja4")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "pcap", "*.pcap*"))
	pcaps = slices.DeleteFunc(pcaps, func(p string) bool { return strings.HasSuffix(p, ".tsv") })
	if len(pcaps) == 0 {
		t.Fatal("no FoxIO captures in the corpus")
	}
	total, skipped := 0, 0
	for _, pcap := range pcaps {
		base := filepath.Base(pcap)
		t.Run(base, func(t *testing.T) {
			streams, quic := clientHellosByStream(parseHellos(t, pcap))
			skipped += quic
			py := pythonExpected(t, filepath.Join(dir, "python", "test", "testdata", base+".json"))
			rs := rustExpected(t, filepath.Join(dir, "rust", "ja4", "src", "snapshots", "ja4__insta@"+base+".snap"))
			for stream, chs := range streams {
				want := py[stream]
				if len(want) != len(chs) {
					t.Errorf("stream %d: %d ClientHellos, python expects %d JA4s", stream, len(chs), len(want))
				}
				for i, ch := range chs {
					total++
					ja4, ja4r := JA4(ch, 't')
					if i < len(want) && (ja4 != want[i].ja4 || ja4r != want[i].ja4r) {
						t.Errorf("stream %d ClientHello %d:\n got  %s\n      %s\n want %s\n      %s", stream, i+1, ja4, ja4r, want[i].ja4, want[i].ja4r)
					}
					if r, ok := rs[stream]; i == 0 && (!ok || r != ja4) {
						t.Errorf("stream %d: JA4 %s, rust snapshot has %q", stream, ja4, r)
					}
				}
			}
			for stream := range py {
				if _, ok := streams[stream]; !ok {
					t.Errorf("python expects a JA4 for TCP stream %d, tshark found no ClientHello there", stream)
				}
			}
			for stream := range rs {
				if _, ok := streams[stream]; !ok {
					t.Errorf("rust expects a JA4 for TCP stream %d, tshark found no ClientHello there", stream)
				}
			}
		})
	}
	t.Logf("%d TCP ClientHellos compared, %d QUIC ClientHellos skipped", total, skipped)
	if total < 140 {
		t.Errorf("only %d ClientHellos compared, want at least 140", total)
	}
}

type expectedJA4 struct{ ja4, ja4r string }

// pythonExpected reads FoxIO ja4.py's JSON output: per stream "JA4.n" and
// "JA4_r.n". QUIC entries (JA4 starting with 'q') are left out: their
// stream numbers are udp.stream indexes.
func pythonExpected(t *testing.T, path string) map[int][]expectedJA4 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make(map[int][]expectedJA4)
	for _, e := range entries {
		stream, ok := e["stream"].(float64)
		if !ok {
			t.Fatalf("%s: entry without stream: %v", path, e)
		}
		var list []expectedJA4
		for n := 1; ; n++ {
			ja4, ok := e[fmt.Sprintf("JA4.%d", n)].(string)
			if !ok {
				break
			}
			ja4r, _ := e[fmt.Sprintf("JA4_r.%d", n)].(string)
			list = append(list, expectedJA4{ja4, ja4r})
		}
		if len(list) == 0 || list[0].ja4[0] == 'q' {
			continue
		}
		out[int(stream)] = list
	}
	return out
}

// rustExpected reads an insta snapshot of the ja4 rust CLI (YAML after the
// snapshot header): the ja4 of each TCP stream.
func rustExpected(t *testing.T, path string) map[int]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// "---\nsource: ...\nexpression: output\n---\n<yaml>"
	parts := bytes.SplitN(raw, []byte("---\n"), 3)
	if len(parts) != 3 {
		t.Fatalf("%s: no insta header", path)
	}
	var entries []struct {
		Stream    int    `yaml:"stream"`
		Transport string `yaml:"transport"`
		JA4       string `yaml:"ja4"`
	}
	if err := yaml.Unmarshal(parts[2], &entries); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make(map[int]string)
	for _, e := range entries {
		if e.Transport == "tcp" && e.JA4 != "" {
			out[e.Stream] = e.JA4
		}
	}
	return out
}

// TestJA3TsharkOracle compares JA3 and JA3S (hash and string) of every TCP
// hello in the corpus with the ja3, ja3_full, ja3s and ja3s_full columns of
// the tshark oracle files.
func TestJA3TsharkOracle(t *testing.T) {
	corpus := testutil.Corpus(t)
	var tsvs []string
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tshark.tsv") {
			tsvs = append(tsvs, p)
		}
		return nil
	})
	if len(tsvs) == 0 {
		t.Fatal("no tshark oracle files in the corpus")
	}
	var nJA3, nJA3S, nEmpty atomic.Int64
	t.Cleanup(func() { // after the parallel subtests
		t.Logf("%d JA3 and %d JA3S equal to tshark's, %d hellos without one (as tshark)", nJA3.Load(), nJA3S.Load(), nEmpty.Load())
		if nJA3.Load() < 185 || nJA3S.Load() < 120 {
			t.Error("compared fewer than 185 JA3 and 120 JA3S")
		}
	})
	for _, tsv := range tsvs {
		pcap := strings.TrimSuffix(tsv, ".tshark.tsv")
		rel, _ := filepath.Rel(corpus, pcap)
		if head, _ := os.ReadFile(tsv); !bytes.Contains(head, []byte("\ttls.handshake.ja3\t")) {
			continue // the DTLS oracle (dtls.* columns): UDP, out of scope
		}
		rows := oracle.Hellos(t, pcap)
		if !slices.ContainsFunc(rows, func(h oracle.Hello) bool { return !h.UDP }) {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			byFrame := make(map[int][]parsedHello)
			for _, h := range parseHellos(t, pcap) {
				if !h.UDP {
					byFrame[h.Frame] = append(byFrame[h.Frame], h)
				}
			}
			for _, row := range rows {
				if row.UDP {
					continue
				}
				var hashes, fulls []string
				for _, h := range byFrame[row.Frame] {
					switch {
					case row.Type == 1 && h.CH != nil:
						hash, full := JA3(h.CH)
						hashes, fulls = append(hashes, hash), append(fulls, full)
					case row.Type == 2 && h.SH != nil:
						hash, full := JA3S(h.SH)
						hashes, fulls = append(hashes, hash), append(fulls, full)
					}
				}
				if len(hashes) == 0 {
					if row.Type == 2 && row.JA3S == "" {
						// An SSLv2 SERVER-HELLO (ssl-v2.pcap): no TLS
						// ServerHello, and no JA3S in tshark either.
						nEmpty.Add(1)
						continue
					}
					t.Errorf("frame %d: tshark lists a hello of type %d, the extraction found none", row.Frame, row.Type)
					continue
				}
				wantHash, wantFull := row.JA3, row.JA3Full
				if row.Type == 2 {
					wantHash, wantFull = row.JA3S, row.JA3SFull
				}
				got, gotFull := strings.Join(hashes, ","), strings.Join(fulls, ",")
				if strings.Trim(got, ",") == "" {
					got, gotFull = "", ""
				}
				if got != wantHash || gotFull != wantFull {
					t.Errorf("frame %d type %d:\n got  %s %s\n want %s %s", row.Frame, row.Type, got, gotFull, wantHash, wantFull)
				}
				switch {
				case wantHash == "":
					nEmpty.Add(1)
				case row.Type == 1:
					nJA3.Add(1)
				default:
					nJA3S.Add(1)
				}
			}
		})
	}
}

// suricataTest is the part of a suricata-verify test.yaml the fingerprint
// checks need.
type suricataTest struct {
	Pcap   string `yaml:"pcap"`
	Checks []struct {
		Filter struct {
			Count *int           `yaml:"count"`
			Match map[string]any `yaml:"match"`
		} `yaml:"filter"`
	} `yaml:"checks"`
}

// TestSuricataVerifyExpected checks the JA3, JA3S and JA4 values that
// suricata-verify expects in EVE tls events (test.yaml filters on
// tls.ja3.hash, tls.ja3.string, tls.ja3s.hash, tls.ja3s.string, tls.ja4).
// QUIC events are out of scope.
func TestSuricataVerifyExpected(t *testing.T) {
	root := filepath.Join(testutil.Corpus(t), "suricata-verify", "tests")
	var yamls []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "test.yaml" {
			yamls = append(yamls, p)
		}
		return nil
	})
	keys := []string{"tls.ja3.hash", "tls.ja3.string", "tls.ja3s.hash", "tls.ja3s.string", "tls.ja4"}
	checked := 0
	for _, y := range yamls {
		raw, err := os.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte("tls.ja")) {
			continue
		}
		var st suricataTest
		if err := yaml.Unmarshal(raw, &st); err != nil {
			t.Fatalf("%s: %v", y, err)
		}
		dir := filepath.Dir(y)
		pcap := filepath.Join(dir, st.Pcap)
		if st.Pcap == "" {
			ms, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			if len(ms) != 1 {
				t.Fatalf("%s: %d pcaps beside it and no pcap key", y, len(ms))
			}
			pcap = ms[0]
		}
		rel, _ := filepath.Rel(root, dir)
		t.Run(rel, func(t *testing.T) {
			if _, err := os.Stat(pcap); err != nil {
				t.Fatalf("capture %s not in the corpus", pcap)
			}
			// Per TCP stream: the fingerprints of its first ClientHello and
			// first ServerHello, as an EVE tls event carries them.
			got := make(map[int]map[string]string)
			for _, h := range parseHellos(t, pcap) {
				if h.UDP {
					continue
				}
				m := got[h.Stream]
				if m == nil {
					m = make(map[string]string)
					got[h.Stream] = m
				}
				if h.CH != nil && m["tls.ja4"] == "" {
					m["tls.ja3.hash"], m["tls.ja3.string"] = JA3(h.CH)
					var ja4r string
					m["tls.ja4"], ja4r = JA4(h.CH, 't')
					m[suricataJA4] = suricataNoSigsJA4(m["tls.ja4"], ja4r)
				}
				if h.SH != nil && m["tls.ja3s.hash"] == "" {
					m["tls.ja3s.hash"], m["tls.ja3s.string"] = JA3S(h.SH)
				}
			}
			for _, c := range st.Checks {
				match := c.Filter.Match
				if match["event_type"] != "tls" {
					continue
				}
				onlyFingerprints := true
				want := make(map[string]string)
				for k, v := range match {
					switch {
					case slices.Contains(keys, k):
						want[k] = fmt.Sprint(v)
					case k != "event_type":
						onlyFingerprints = false
					}
				}
				if len(want) == 0 {
					continue
				}
				n := 0
				for _, m := range got {
					if matchAll(m, want) {
						n++
						continue
					}
					// Suricata's documented difference: see suricataNoSigsJA4.
					if w, ok := want["tls.ja4"]; ok && m[suricataJA4] != m["tls.ja4"] && m[suricataJA4] == w {
						alt := maps.Clone(want)
						alt["tls.ja4"] = m["tls.ja4"]
						if matchAll(m, alt) {
							t.Logf("suricata's JA4 %s is JA4 %s with the trailing '_' FoxIO-LLC/ja4#146 rules out", w, m["tls.ja4"])
							n++
						}
					}
				}
				checked++
				if n == 0 {
					t.Errorf("no TCP connection has %v; computed %v", want, got)
				} else if c.Filter.Count != nil && onlyFingerprints && n != *c.Filter.Count {
					t.Errorf("%d TCP connections have %v, suricata-verify expects %d", n, want, *c.Filter.Count)
				}
			}
		})
	}
	if checked < 5 {
		t.Errorf("only %d suricata-verify fingerprint expectations checked, want at least 5", checked)
	}
	t.Logf("%d suricata-verify fingerprint checks", checked)
}

const suricataJA4 = "suricata.ja4"

// suricataNoSigsJA4 is the JA4 Suricata logs for a ClientHello without
// signature algorithms: it hashes part c as "extensions_" with a trailing
// '_' (suricata-verify tests/bug-5713-02-ja4 expects
// t10i070600_c50f5591e341_ce66f3b797c1 for a TLS 1.0 hello with no
// extension 13). JA4.md says the string then "ends without an underscore",
// which FoxIO confirmed in FoxIO-LLC/ja4#146 (and fixed its own Zeek
// plugin, FoxIO-LLC/ja4#149); the rust reference does the same. The test
// accepts Suricata's form only where it is exactly this difference.
func suricataNoSigsJA4(ja4, ja4r string) string {
	rawC := ja4r[11:]
	_, rawC, _ = strings.Cut(rawC, "_")
	if strings.Contains(rawC, "_") {
		return ja4 // there are signature algorithms: no difference
	}
	sum := sha256.Sum256([]byte(rawC + "_"))
	return ja4[:24] + hex.EncodeToString(sum[:6])
}

func matchAll(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// ndpiFlow matches the fingerprint fields of an ndpiReader flow line.
var (
	ndpiJA3C = regexp.MustCompile(`\[JA3C: ([0-9a-f]{32})\]`)
	ndpiJA4  = regexp.MustCompile(`\[JA4: ([^\]]+)\]`)
)

// TestNDPIExpected is a third opinion: the JA3C and JA4 that ndpiReader
// printed for the nDPI captures (tests/cfgs/default/result/*.out) must be
// among the fingerprints of the capture's TCP ClientHellos.
func TestNDPIExpected(t *testing.T) {
	root := filepath.Join(testutil.Corpus(t), "nDPI", "tests", "cfgs", "default")
	outs, _ := filepath.Glob(filepath.Join(root, "result", "*.out"))
	checked := 0
	for _, out := range outs {
		pcap := filepath.Join(root, "pcap", strings.TrimSuffix(filepath.Base(out), ".out"))
		if _, err := os.Stat(pcap); err != nil {
			continue
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !ndpiJA4.Match(raw) && !ndpiJA3C.Match(raw) {
			continue
		}
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			ja3s, ja4s := map[string]bool{}, map[string]bool{}
			for _, h := range parseHellos(t, pcap) {
				if h.CH == nil || h.UDP {
					continue
				}
				hash, _ := JA3(h.CH)
				ja4, _ := JA4(h.CH, 't')
				ja3s[hash], ja4s[ja4] = true, true
			}
			for _, line := range strings.Split(string(raw), "\n") {
				if !strings.Contains(line, "\tTCP ") {
					continue
				}
				if m := ndpiJA3C.FindStringSubmatch(line); m != nil {
					checked++
					if !ja3s[m[1]] {
						t.Errorf("nDPI JA3C %s not among %v", m[1], ja3s)
					}
				}
				if m := ndpiJA4.FindStringSubmatch(line); m != nil {
					checked++
					if !ja4s[m[1]] && !ndpiKnownDifference(m[1], ja4s) {
						t.Errorf("nDPI JA4 %s not among %v", m[1], ja4s)
					}
				}
			}
		})
	}
	t.Logf("%d nDPI fingerprints checked", checked)
	if checked < 17 {
		t.Errorf("only %d nDPI fingerprints checked, want at least 17", checked)
	}
}

// ndpiKnownDifference reports whether nDPI's JA4 differs from one of ours
// only where this nDPI snapshot departs from JA4.md: the SNI letter ('d'
// whenever nDPI knows a host name, also from outside the ClientHello, e.g.
// ftp-start-tls.pcap, which has no server_name extension) and the ALPN
// characters (the first two characters of the name: "ht" for "http/1.1",
// where JA4.md's example gives "h1").
func ndpiKnownDifference(ndpi string, ours map[string]bool) bool {
	for o := range ours {
		if len(o) == len(ndpi) && o[:3] == ndpi[:3] && o[4:8] == ndpi[4:8] && o[10:] == ndpi[10:] {
			return true
		}
	}
	return false
}

// TestKnownClientSources recomputes every KnownClient row from the capture
// its comment cites: some ClientHello there must have that JA4 (the QUIC
// row from the QUIC Initial's ClientHello, with transport 'q').
func TestKnownClientSources(t *testing.T) {
	corpus := testutil.Corpus(t)
	sources := map[string]string{
		"t13d1715h2_5b57614c22b0_3d5424432f57": "ja4/pcap/tls12.pcap",
		"t13d1516h2_8daaf6152771_e5627efa2ab1": "ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng",
		"q13d0310h3_55b375c5d22e_cd85d2d88918": "ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng",
		"t13d1516h2_8daaf6152771_02713d6af862": "nDPI/tests/cfgs/default/pcap/tls_ech.pcapng",
	}
	if len(sources) != len(knownClients) {
		t.Fatalf("%d table rows, %d sources here", len(knownClients), len(sources))
	}
	for ja4, rel := range sources {
		if knownClients[ja4] == "" {
			t.Errorf("%s not in the table", ja4)
		}
		found := false
		for _, w := range tsharkHellos(t, filepath.Join(corpus, rel)) {
			if w.Type != 1 || w.SSLv2 {
				continue
			}
			ch, _ := tls.ParseClientHello(w.Body)
			if ch == nil {
				continue
			}
			tr := byte('t')
			if w.UDP {
				tr = 'q'
			}
			if got, _ := JA4(ch, tr); got == ja4 {
				found = true
			}
		}
		if !found {
			t.Errorf("no ClientHello in %s has JA4 %s (%s)", rel, ja4, knownClients[ja4])
		}
	}
}
