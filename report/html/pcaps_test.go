package html

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// realCaptures: a TLS 1.2 handshake, TLS 1.3 with a HelloRetryRequest, a
// refused handshake, session-id resumption (two connections), an expired
// certificate, and cleartext logins carrying planted secrets.
var realCaptures = []string{
	"tls12-ecdhe-rsa-openssl.pcap",
	"tls13-hrr-openssl.pcap",
	"handshake-no-shared-cipher-openssl.pcap",
	"tls12-session-id-resumption-openssl.pcap",
	"cert-expired.pcap",
	"http-form-login.pcap",
	"ftp-login.pcap",
}

// realResult runs the captures through the Analyzer into a Result, one
// Capture per file.
func realResult(t testing.TB, names []string) *report.Result {
	t.Helper()
	r := &report.Result{Tool: "tlsscope", Version: "test"}
	for _, name := range names {
		path := filepath.Join(testutil.Pcaps(t), name)
		f, err := capture.Open(path)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		cp := &report.Capture{Name: name}
		a := decode.New(decode.Config{}, decode.Handler{
			Connection: func(c *facts.Connection) { cc := *c; cp.Connections = append(cp.Connections, &cc) },
			Anomaly:    func(an facts.Anomaly) { cp.Anomalies = append(cp.Anomalies, an) },
		})
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
		f.Close()
		slices.SortFunc(cp.Connections, func(a, b *facts.Connection) int { return int(a.ID) - int(b.ID) })
		cp.Stats = a.Stats()
		cp.Findings = findingsFor(t, cp.Connections)
		r.Captures = append(r.Captures, cp)
	}
	return r
}

// plantedSecrets are the secrets manifest.json says the captures carry.
func plantedSecrets(t testing.TB, names []string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.Pcaps(t), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Captures []struct {
			Pcap    string   `json:"pcap"`
			Secrets []string `json:"secrets"`
		} `json:"captures"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range m.Captures {
		if slices.Contains(names, c.Pcap) {
			out = append(out, c.Secrets...)
		}
	}
	return out
}

// tcpStreams counts the TCP connections of the captures as tshark sees
// them (SYNs without ACK), in all and by server address. tshark starts
// slowly, so it runs once over the captures merged.
func tcpStreams(t testing.TB, names []string) (total int, byServer map[string]int) {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	mergecap := testutil.Tool(t, "mergecap")
	merged := filepath.Join(t.TempDir(), "merged.pcapng")
	args := []string{"-w", merged}
	for _, n := range names {
		args = append(args, filepath.Join(testutil.Pcaps(t), n))
	}
	if out, err := exec.Command(mergecap, args...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	out, err := exec.Command(tshark, "-n", "-r", merged, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0",
		"-T", "fields", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	byServer = map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			continue
		}
		total++
		ip := f[0]
		if ip == "" {
			ip = "[" + f[1] + "]"
		}
		byServer[ip+":"+f[2]]++
	}
	return total, byServer
}

func TestRealCaptureStructure(t *testing.T) {
	r := realResult(t, realCaptures)
	doc := writeDoc(t, r, report.Options{})
	total, _ := tcpStreams(t, realCaptures)
	n := parse(t, doc)
	if rows := connRows(n); len(rows) != total {
		t.Errorf("%d connection rows, tshark sees %d TCP connections", len(rows), total)
	}
	if refs := externalRefs(n); len(refs) > 0 {
		t.Errorf("external references: %v", refs)
	}
	secrets := plantedSecrets(t, realCaptures)
	if len(secrets) < 2 {
		t.Fatalf("manifest lists %d secrets for %v", len(secrets), realCaptures)
	}
	for _, s := range secrets {
		if bytes.Contains(doc, []byte(s)) {
			t.Errorf("planted secret %q in the report", s)
		}
	}
	for _, want := range []string{"HelloRetryRequest", "Alert fatal handshake_failure", "encrypted handshake (hidden)"} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestBrowser opens the report of real captures in headless Chromium.
func TestBrowser(t *testing.T) {
	r := realResult(t, realCaptures)
	total, byPort := tcpStreams(t, realCaptures)
	// Filter on the resumption scenario's server: tshark counts its
	// connections.
	// connections; then on a finding id (not always the worst of its
	// row): the connections of the capture manifest.json says has it.
	servers := map[string]string{}
	for _, c := range r.Captures {
		if len(c.Connections) > 0 {
			servers[c.Name] = facts.Endpoint(c.Connections[0].Server)
		}
	}
	resumption := servers["tls12-session-id-resumption-openssl.pcap"]
	if byPort[resumption] < 2 {
		t.Fatalf("tshark sees %d connections to %q, want the resumption's two", byPort[resumption], resumption)
	}
	filters := []filterCase{
		{"plaintext-session-cookie", byPort[servers["http-form-login.pcap"]]},
		{"no-such-thing", 0},
		{resumption, byPort[resumption]},
	}
	shot := browse(t, writeDoc(t, r, report.Options{}), filters, total)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
}

// TestSummaryTextExpiry: certificate expiry in the text summary agrees
// with tshark's reading of the leaf's notAfter and the frame's time.
func TestSummaryTextExpiry(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	names := []string{"cert-expiring-soon.pcap", "cert-expired.pcap", "cert-good.pcap"}
	var b bytes.Buffer
	if err := report.WriteSummaryText(&b, realResult(t, names), 0); err != nil {
		t.Fatal(err)
	}
	sections := strings.Split(b.String(), "Summary of ")
	for _, name := range names {
		out, err := exec.Command(tshark, "-n", "-r", filepath.Join(testutil.Pcaps(t), name), "-Y", "tls.handshake.certificate",
			"-T", "fields", "-e", "frame.time_epoch", "-e", "x509af.utcTime").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", name, err)
		}
		f := strings.Split(strings.TrimSpace(strings.Split(string(out), "\n")[0]), "\t")
		if len(f) != 2 {
			t.Fatalf("tshark %s: %q", name, out)
		}
		var sec, nsec int64
		fmt.Sscanf(f[0], "%d.%d", &sec, &nsec)
		seen := time.Unix(sec, 0)
		notAfter, err := time.Parse("2006-01-02 15:04:05 (MST)", strings.Split(f[1], ",")[1])
		if err != nil {
			t.Fatalf("%s: leaf notAfter: %v", name, err)
		}
		days := int(math.Round(notAfter.Sub(seen).Hours() / 24))
		var sect string
		for _, s := range sections {
			if strings.HasPrefix(s, name+"\n") {
				sect = s
			}
		}
		soon, _, _ := strings.Cut(sect, "Certificates expiring in 30 to 90 days:")
		line := notAfter.Format("2006-01-02") + "  localhost (localhost): "
		switch {
		case days < 0:
			line += fmt.Sprintf("EXPIRED %d days before the capture", -days)
		case days < 30:
			line += fmt.Sprintf("%d days left", days)
		default:
			line = ""
		}
		if line != "" && !strings.Contains(soon, line) {
			t.Errorf("%s: summary lacks %q under 30 days:\n%s", name, line, sect)
		}
		if line == "" && strings.Contains(sect, "localhost (localhost)") {
			t.Errorf("%s: certificate with %d days left listed:\n%s", name, days, sect)
		}
	}
}
