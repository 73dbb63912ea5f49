package ladder

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

var (
	update    = flag.Bool("update", false, "rewrite testdata/golden from the current output")
	pcapsFlag = flag.String("pcaps", "", "read the captures from this directory instead of testdata/pcaps (e.g. a checkout of the committed ones)")
)

func pcapsDir(t testing.TB) string {
	if *pcapsFlag != "" {
		return *pcapsFlag
	}
	return testutil.Pcaps(t)
}

// Analyze runs a capture of testdata/pcaps through the Analyzer and
// returns its connections in order of id, named after the file's base name.
func analyze(t testing.TB, name string) []*facts.Connection {
	t.Helper()
	return analyzePath(t, filepath.Join(pcapsDir(t), name), name)
}

// analyzePath runs any capture through the Analyzer.
func analyzePath(t testing.TB, path, name string) []*facts.Connection {
	t.Helper()
	conns, err := decode.ReadConnections(path, name)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(conns, func(a, b *facts.Connection) int { return int(a.ID) - int(b.ID) })
	return conns
}

// goldenCaptures are the scenarios the ladder's golden files cover: a
// TLS 1.2 full handshake, TLS 1.3 with a HelloRetryRequest, a handshake
// refused with an alert, TLS 1.2 and 1.3 resumption, cleartext logins.
var goldenCaptures = []string{
	"tls12-ecdhe-rsa-openssl.pcap",
	"tls13-hrr-openssl.pcap",
	"handshake-no-shared-cipher-openssl.pcap",
	"cert-expired.pcap",
	"tls12-session-id-resumption-openssl.pcap",
	"tls13-resumption-openssl.pcap",
	"http-form-login.pcap",
	"ftp-login.pcap",
}

func TestGoldenLadders(t *testing.T) {
	for _, name := range goldenCaptures {
		t.Run(name, func(t *testing.T) {
			conns := analyze(t, name)
			if len(conns) == 0 {
				t.Fatalf("no connections decoded")
			}
			cfg := &rules.Config{CAFiles: []string{filepath.Join(pcapsDir(t), "ca.pem")}}
			var b bytes.Buffer
			for i, c := range conns {
				if i > 0 {
					b.WriteString("\n")
				}
				if err := Write(&b, c, rules.Evaluate(c, cfg), Options{Width: 80}); err != nil {
					t.Fatal(err)
				}
			}
			// The golden file's first line names the capture's SHA-256:
			// captures are re-recorded now and then (make captures), and
			// a new recording has new ports and times.
			pcap, err := os.ReadFile(filepath.Join(pcapsDir(t), name))
			if err != nil {
				t.Fatal(err)
			}
			stamp := fmt.Sprintf("# %s sha256 %x\n", name, sha256.Sum256(pcap))
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".pcap")+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append([]byte(stamp), b.Bytes()...), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			head, body, _ := bytes.Cut(want, []byte("\n"))
			if string(head)+"\n" != stamp {
				// A new recording (new ports and times) is not a defect of
				// the ladder: skip, saying what to do. TestArrowsFollowTshark
				// and TestFindingsOnTheirArrows still check the new one.
				t.Skipf("%s was re-recorded since %s was written: run go test ./report/ladder -update and check the new ladders against tshark", name, golden)
			}
			if !bytes.Equal(b.Bytes(), body) {
				t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, b.String())
			}
		})
	}
}

// TestArrowsFollowTshark checks, on every TLS capture in testdata/pcaps,
// that the ladder's handshake arrows are tshark's handshake messages,
// ChangeCipherSpecs and alerts, in the same order and direction, that the
// HelloRetryRequest is drawn when there is one and that alert names are
// tshark's.
func TestArrowsFollowTshark(t *testing.T) {
	pcaps, err := filepath.Glob(filepath.Join(pcapsDir(t), "*.pcap"))
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	if n, hrr, alerts := checkAgainstTshark(t, pcaps); n < 50 || hrr == 0 || alerts == 0 {
		t.Errorf("only %d TLS connections checked, %d with a HelloRetryRequest, %d with a readable alert", n, hrr, alerts)
	}
}

// TestArrowsFollowTsharkCorpus does the same on public captures of real
// clients and servers: HelloRetryRequest with an out-of-order ServerHello,
// handshake failures and early alerts, PSK resumption, ECH, post-quantum
// key shares, client certificates.
func TestArrowsFollowTsharkCorpus(t *testing.T) {
	dir := testutil.Corpus(t)
	var paths []string
	for _, p := range corpusCaptures {
		paths = append(paths, filepath.Join(dir, p))
	}
	if n, hrr, alerts := checkAgainstTshark(t, paths, "-o", "tcp.reassemble_out_of_order:TRUE"); n < 19 || hrr == 0 || alerts == 0 {
		t.Errorf("only %d TLS connections checked, %d with a HelloRetryRequest, %d with a readable alert", n, hrr, alerts)
	}
}

var corpusCaptures = []string{
	"zeek/testing/btest/Traces/tls/hrr.pcap",
	"zeek/testing/btest/Traces/tls/tls-1.2-handshake-failure.pcap",
	"zeek/testing/btest/Traces/tls/tls-early-alert.pcap",
	"zeek/testing/btest/Traces/tls/tls13_psk_succesfull.pcap",
	"zeek/testing/btest/Traces/tls/tls13-ech.pcap",
	"zeek/testing/btest/Traces/tls/chrome-1250-tls-x25519-kyber.pcap",
	"zeek/testing/btest/Traces/tls/client-certificate.pcap",
	"zeek/testing/btest/Traces/tls/ssl.v3.pcap",
	"ja4/pcap/latest.pcapng",
	"ja4/pcap/badcurveball.pcap",
	"nDPI/tests/cfgs/default/pcap/tls_alert.pcap",
	"suricata-verify/tests/tls/tls-certs-alert/input.pcap",
	"ssldump/samples/tls1.3_session_resumption.pcap",
}

// checkAgainstTshark compares, for every TLS connection of the captures
// (merged into one file so that tshark starts once), the ladder's
// handshake arrows with tshark's handshake messages, ChangeCipherSpecs
// and alerts: same order, same direction, same alert names; and that a
// HelloRetryRequest is drawn. It returns how many connections it checked,
// how many of them had a HelloRetryRequest and how many a readable alert.
func checkAgainstTshark(t *testing.T, paths []string, tsharkArgs ...string) (checked, hrr, alerts int) {
	tshark := testutil.Tool(t, "tshark")
	mergecap := testutil.Tool(t, "mergecap")
	merged := filepath.Join(t.TempDir(), "all.pcapng")
	if out, err := exec.Command(mergecap, append([]string{"-w", merged}, paths...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	recs, err := tsharkRecords(tshark, merged, tsharkArgs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		for _, c := range analyzePath(t, path, name) {
			if c.TLS == nil || c.StartTLS != "" || c.TLS.ClientHello == nil || len(c.TLS.Events) >= tls.MaxEvents {
				continue
			}
			want := tsharkTokens(recs, c)
			if c.TLS.ServerHello != nil && strings.Contains(tls.CipherSuiteName(c.TLS.CipherSuite), "_WITH_NULL_") {
				// decode/tls treats every record after ChangeCipherSpec
				// as unreadable even with a NULL cipher (it reads only
				// application data there); tshark reads the Finished and
				// the alerts. Compare what both can say.
				for i, tok := range want {
					from, what, _ := strings.Cut(tok, ":")
					switch {
					case what == "finished":
						want[i] = from + ":encrypted"
					case strings.HasPrefix(what, "alert:"):
						want[i] = from + ":alert"
					}
				}
			}
			arrows, _ := Arrows(c, nil, false)
			got := arrowTokens(arrows)
			// The Analyzer stops reading a connection once its handshake
			// is over, so tshark may show more: only encrypted records
			// (close_notify alerts, post-handshake messages) may follow.
			ok := len(got) <= len(want) && slices.Equal(got, want[:len(got)])
			for _, tok := range want[min(len(got), len(want)):] {
				if !c.TLS.Established || !(strings.HasSuffix(tok, ":alert") || strings.HasSuffix(tok, ":encrypted")) {
					ok = false
				}
			}
			if !ok {
				t.Errorf("%s #%d: arrows\n  %v\ntshark\n  %v", name, c.ID, got, want)
			}
			if c.TLS.HelloRetry != nil {
				hrr++
				if !slices.ContainsFunc(arrows, func(a Arrow) bool { return a.Label == "HelloRetryRequest" }) {
					t.Errorf("%s #%d: no HelloRetryRequest arrow", name, c.ID)
				}
			}
			if slices.ContainsFunc(want, func(tok string) bool { return strings.Count(tok, ":") == 2 && strings.Contains(tok, ":alert:") }) {
				alerts++
			}
			checked++
		}
	}
	t.Logf("%d connections checked against tshark (%d with a HelloRetryRequest, %d with a readable alert)", checked, hrr, alerts)
	return checked, hrr, alerts
}

// record is one TLS record as tshark dissected it.
type record struct {
	src, dst   netip.AddrPort
	content    int   // tls.record.content_type; 23 for TLS 1.3 opaque records
	handshakes []int // tls.handshake.type, in order
	alertDesc  int   // -1 when not readable
	hrr        bool
}

// tsharkRecords walks tshark's JSON token by token (a map would lose the
// order of records in a frame) and returns the TLS records in file order.
func tsharkRecords(tshark, path string, args ...string) ([]record, error) {
	out, err := exec.Command(tshark, append([]string{"-r", path, "-Y", "tls", "-T", "json", "-n"}, args...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	// A stack of open containers: in an object tokens alternate key and
	// value; an array's values take the key the array was under.
	type frame struct {
		object, wantKey bool
		key             string
	}
	stack := []frame{{}}
	var recs []record
	var src, dst int
	var srcIP, dstIP netip.Addr
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tshark json: %w", err)
		}
		top := &stack[len(stack)-1]
		if top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if p := &stack[len(stack)-1]; p.object {
					p.wantKey = true
				}
				continue
			}
			top.key, top.wantKey = tok.(string), false
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true, key: top.key})
				if top.key == "tls.record" {
					// A record; an SSLv2-format hello has no content
					// type but is a handshake message.
					recs = append(recs, record{src: netip.AddrPortFrom(srcIP, uint16(src)), dst: netip.AddrPortFrom(dstIP, uint16(dst)),
						content: 22, alertDesc: -1})
				}
			case '[':
				stack = append(stack, frame{key: top.key})
			default:
				stack = stack[:len(stack)-1]
				if p := &stack[len(stack)-1]; p.object {
					p.wantKey = true
				}
			}
			continue
		}
		k := top.key
		if top.object {
			top.wantKey = true
		}
		s, _ := tok.(string)
		n, _ := strconv.Atoi(s)
		switch k {
		case "ip.src", "ipv6.src":
			srcIP, _ = netip.ParseAddr(s)
		case "ip.dst", "ipv6.dst":
			dstIP, _ = netip.ParseAddr(s)
		case "tcp.srcport":
			src = n
		case "tcp.dstport":
			dst = n
		case "tls.record.content_type", "tls.record.opaque_type":
			if len(recs) > 0 {
				recs[len(recs)-1].content = n
			}
		case "tls.handshake.type":
			if len(recs) > 0 {
				recs[len(recs)-1].handshakes = append(recs[len(recs)-1].handshakes, n)
			}
		case "tls.alert_message.desc":
			if len(recs) > 0 {
				recs[len(recs)-1].alertDesc = n
			}
		case "tls.handshake.random":
			// RFC 8446, 4.1.3: the HelloRetryRequest random.
			if len(recs) > 0 && strings.ReplaceAll(s, ":", "") == "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c" {
				recs[len(recs)-1].hrr = true
			}
		}
	}
	return recs, nil
}

func tsharkTokens(recs []record, c *facts.Connection) []string {
	var out []string
	for _, r := range recs {
		var from string
		switch {
		case r.src == c.Client && r.dst == c.Server:
			from = "c"
		case r.src == c.Server && r.dst == c.Client:
			from = "s"
		default:
			continue
		}
		switch r.content {
		case 20:
			out = append(out, from+":ccs")
		case 21:
			tok := from + ":alert"
			if r.alertDesc >= 0 {
				tok += ":" + tls.AlertName(uint8(r.alertDesc))
			}
			out = append(out, tok)
		case 22:
			if len(r.handshakes) == 0 {
				out = append(out, from+":encrypted")
			}
			for _, h := range r.handshakes {
				name := tls.HandshakeTypeName(uint8(h))
				if h == 2 && r.hrr {
					name = "hello_retry_request"
				}
				out = append(out, from+":"+name)
			}
		}
	}
	return out
}

func arrowTokens(arrows []Arrow) []string {
	var out []string
	for _, a := range arrows {
		from := "c"
		if a.From == tls.ServerToClient {
			from = "s"
		}
		switch a.Kind {
		case KindChangeCipherSpec:
			out = append(out, from+":ccs")
		case KindAlert:
			tok := from + ":alert"
			if f := strings.Fields(a.Label); len(f) == 3 {
				tok += ":" + f[2]
			}
			out = append(out, tok)
		case KindEncryptedHandshake:
			out = append(out, from+":encrypted")
		case KindHandshake:
			name := tls.HandshakeTypeName(a.Handshake)
			if a.Label == "HelloRetryRequest" {
				name = "hello_retry_request"
			}
			out = append(out, from+":"+name)
		}
	}
	return out
}

// TestFindingsOnTheirArrows: the findings manifest.json expects of a
// capture are drawn under the message that caused them.
func TestFindingsOnTheirArrows(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(pcapsDir(t), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Captures []struct {
			Pcap     string   `json:"pcap"`
			Findings []string `json:"findings"`
		} `json:"captures"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	expect := map[string][]string{}
	for _, c := range m.Captures {
		expect[c.Pcap] = c.Findings
	}
	// The kind of arrow each expected finding belongs under.
	kinds := map[string][]string{
		"cert-expired":             {KindHandshake + ":certificate"},
		"handshake-failed":         {KindAlert},
		"plaintext-credentials":    {KindHTTPRequest, KindSecret},
		"plaintext-session-cookie": {KindHTTPRequest, KindHTTPResponse},
	}
	cfg := &rules.Config{CAFiles: []string{filepath.Join(pcapsDir(t), "ca.pem")}}
	for _, name := range []string{"cert-expired.pcap", "handshake-no-shared-cipher-openssl.pcap", "http-form-login.pcap", "ftp-login.pcap"} {
		want := expect[name]
		if len(want) == 0 {
			t.Errorf("%s: manifest expects no findings", name)
		}
		for _, c := range analyze(t, name) {
			arrows, _ := Arrows(c, rules.Evaluate(c, cfg), false)
			for _, id := range want {
				var where []string
				for _, a := range arrows {
					for _, f := range a.Findings {
						if f.ID == id {
							k := a.Kind
							if a.Kind == KindHandshake {
								k += ":" + tls.HandshakeTypeName(a.Handshake)
							}
							where = append(where, k)
						}
					}
				}
				ok := len(where) > 0
				for _, w := range where {
					ok = ok && slices.Contains(kinds[id], w)
				}
				if !ok {
					t.Errorf("%s #%d: %s drawn under %v, want under %v", name, c.ID, id, where, kinds[id])
				}
			}
		}
	}
}
