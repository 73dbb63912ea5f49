package ladder

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// Analyze runs a capture of testdata/pcaps through the Analyzer and
// returns its connections in order of id, named after the file's base name.
func analyze(t testing.TB, name string) []*facts.Connection {
	t.Helper()
	path := filepath.Join(testutil.Pcaps(t), name)
	f, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var conns []*facts.Connection
	a := decode.New(decode.Config{}, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		conns = append(conns, &cp)
	}})
	a.SetCapture(name)
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		a.Packet(p)
	}
	a.Flush()
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
			cfg := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(t), "ca.pem")}}
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
			pcap, err := os.ReadFile(filepath.Join(testutil.Pcaps(t), name))
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
				msg := fmt.Sprintf("%s was re-recorded since %s was written: run go test ./report/ladder -update and check the new ladders against tshark", name, golden)
				if os.Getenv("CI") == "true" {
					t.Fatal(msg)
				}
				t.Skip(msg)
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
	tshark := testutil.Tool(t, "tshark")
	pcaps, err := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap"))
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	// tshark spends most of its time starting up: one run over all the
	// captures merged (server ports are unique per scenario, so client
	// and server ports name a connection).
	mergecap := testutil.Tool(t, "mergecap")
	merged := filepath.Join(t.TempDir(), "all.pcapng")
	if out, err := exec.Command(mergecap, append([]string{"-w", merged}, pcaps...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	recs, err := tsharkRecords(tshark, merged)
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		name  string
		conns []*facts.Connection
	}
	var jobs []job
	for _, path := range pcaps {
		j := job{name: filepath.Base(path)}
		for _, c := range analyze(t, j.name) {
			if c.TLS != nil && c.StartTLS == "" && c.TLS.ClientHello != nil && len(c.TLS.Events) < tls.MaxEvents {
				j.conns = append(j.conns, c)
			}
		}
		jobs = append(jobs, j)
	}
	checked := 0
	for _, j := range jobs {
		for _, c := range j.conns {
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
				t.Errorf("%s #%d: arrows\n  %v\ntshark\n  %v", j.name, c.ID, got, want)
			}
			if c.TLS.HelloRetry != nil && !slices.ContainsFunc(arrows, func(a Arrow) bool { return a.Label == "HelloRetryRequest" }) {
				t.Errorf("%s #%d: no HelloRetryRequest arrow", j.name, c.ID)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d TLS connections checked", checked)
	}
	t.Logf("%d connections checked against tshark", checked)
}

// record is one TLS record as tshark dissected it.
type record struct {
	srcPort, dstPort int
	content          int   // tls.record.content_type; 23 for TLS 1.3 opaque records
	handshakes       []int // tls.handshake.type, in order
	alertDesc        int   // -1 when not readable
	hrr              bool
}

// tsharkRecords walks tshark's JSON token by token (a map would lose the
// order of records in a frame) and returns the TLS records in file order.
func tsharkRecords(tshark, path string) ([]record, error) {
	out, err := exec.Command(tshark, "-r", path, "-Y", "tls", "-T", "json", "-n").Output()
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
		case "tcp.srcport":
			src = n
		case "tcp.dstport":
			dst = n
		case "tls.record.content_type", "tls.record.opaque_type":
			recs = append(recs, record{srcPort: src, dstPort: dst, content: n, alertDesc: -1})
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
	cp, sp := int(c.Client.Port()), int(c.Server.Port())
	var out []string
	for _, r := range recs {
		var from string
		switch {
		case r.srcPort == cp && r.dstPort == sp:
			from = "c"
		case r.srcPort == sp && r.dstPort == cp:
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
	b, err := os.ReadFile(filepath.Join(testutil.Pcaps(t), "manifest.json"))
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
	cfg := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(t), "ca.pem")}}
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
