package tls

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// segment is one chunk of a TCP stream as tshark's follow gave it.
type segment struct {
	from Direction
	data []byte
}

// tcpStream is one TCP connection reassembled by tshark (an independent
// reassembler): its endpoints and its chunks in order.
type tcpStream struct {
	index          int
	client, server netip.AddrPort
	segs           []segment
}

// followStreams runs `tshark -q -z follow,tcp,raw,A,B` for every TCP
// connection of a capture that tshark's oracle saw TLS hellos on. tshark's Node 0 is the side that sent the first packet;
// the client is the side whose bytes start with a ClientHello (after any
// cleartext STARTTLS exchange, which is dropped segment by segment).
func followStreams(t testing.TB, pcap string) []tcpStream {
	t.Helper()
	if v, ok := followCache.Load(pcap); ok {
		return v.([]tcpStream)
	}
	streams := followStreamsUncached(t, pcap)
	followCache.Store(pcap, streams)
	return streams
}

// followCache keeps tshark's output per capture: several tests read the
// same captures, and tshark takes most of the package's test time.
var followCache sync.Map

func followStreamsUncached(t testing.TB, pcap string) []tcpStream {
	tshark := testutil.Tool(t, "tshark")
	// The connections to follow are those the oracle saw hellos on
	// (reading the .tshark.tsv file costs no tshark run); each is
	// followed by its address pair.
	seen := map[string]bool{}
	var pairs []string
	for _, c := range oracle.Conns(oracle.Hellos(t, pcap)) {
		a, b := endpoint(c.Client), endpoint(c.Server)
		if a > b {
			a, b = b, a // the oracle may list one connection both ways round
		}
		if p := a + "," + b; !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	sort.Strings(pairs)
	args := []string{"-r", pcap, "-q", "-o", "tcp.reassemble_out_of_order:TRUE"}
	for _, p := range pairs {
		args = append(args, "-z", "follow,tcp,raw,"+p)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark follow on %s: %v", pcap, err)
	}
	var streams []tcpStream
	var cur *tcpStream
	var nodes [2]netip.AddrPort
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Filter: "):
			streams = append(streams, tcpStream{index: len(streams)})
			cur = &streams[len(streams)-1]
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			ap, err := netip.ParseAddrPort(line[8:])
			if err != nil {
				t.Fatalf("%s: %q: %v", pcap, line, err)
			}
			nodes[line[5]-'0'] = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			cur.client, cur.server = nodes[0], nodes[1]
		case strings.HasPrefix(line, "=="), strings.HasPrefix(line, "Follow:"), line == "", cur == nil:
		default:
			from := ClientToServer
			if strings.HasPrefix(line, "\t") {
				from = ServerToClient
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("%s: bad hex in follow output: %v", pcap, err)
			}
			cur.segs = append(cur.segs, segment{from, b})
		}
	}
	for i := range streams {
		streams[i].orient()
	}
	return streams
}

// endpoint writes an address the way tshark's follow filter takes it.
func endpoint(a netip.AddrPort) string {
	if a.Addr().Is6() {
		return "[" + a.Addr().String() + "]:" + strconv.Itoa(int(a.Port()))
	}
	return a.String()
}

// orient drops cleartext before TLS (STARTTLS) and makes the side that
// sent the ClientHello the client.
func (s *tcpStream) orient() {
	var started [2]bool
	var segs []segment
	clientIs := -1
	for _, g := range s.segs {
		if !started[g.from] {
			if Sniff(g.data) != Yes {
				continue
			}
			started[g.from] = true
			if clientIs < 0 {
				// the first TLS bytes: a ClientHello (TLS or SSLv2) names the client
				if g.data[0] == ContentHandshake && len(g.data) > 5 && g.data[5] == TypeClientHello ||
					g.data[0]&0x80 != 0 && len(g.data) > 2 && g.data[2] == 1 {
					clientIs = int(g.from)
				} else {
					clientIs = int(1 - g.from)
				}
			}
		}
		segs = append(segs, g)
	}
	if clientIs == 1 {
		s.client, s.server = s.server, s.client
		for i := range segs {
			segs[i].from = 1 - segs[i].from
		}
	}
	s.segs = segs
}

// run feeds the stream to a new Conn, one tshark chunk per Feed.
func (s *tcpStream) run(t testing.TB, anomalies *[]string) *Conn {
	c := NewConn(Limits{}, func(kind string, dir Direction, off int64, detail string) {
		if anomalies != nil {
			*anomalies = append(*anomalies, fmt.Sprintf("%s %s@%d: %s", kind, dir, off, detail))
		}
	})
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, g := range s.segs {
		c.Feed(g.from, g.data, ts.Add(time.Duration(i)*time.Millisecond))
	}
	return c
}

// corpusPcaps lists the corpus captures that have a tshark oracle.
func corpusPcaps(t testing.TB) []string {
	dir := testutil.Corpus(t)
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tshark.tsv") {
			out = append(out, strings.TrimSuffix(p, ".tshark.tsv"))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// keyLogged captures are the ones tshark decrypted for its oracle: its
// certificate and alert rows include what was encrypted on the wire.
func keyLogged(pcap string) bool {
	if strings.Contains(pcap, "ssldump/samples/") || strings.HasSuffix(pcap, "tls12-decryption.pcap") ||
		strings.HasSuffix(pcap, "chrome-cloudflare-quic-with-secrets.pcapng") {
		return true
	}
	return false
}

func TestCorpusMatchesTshark(t *testing.T) {
	pcaps := corpusPcaps(t)
	if len(pcaps) == 0 {
		t.Fatal("no corpus captures with a tshark oracle")
	}
	var checkedConns, ran atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d connections compared with tshark", checkedConns.Load())
		if n := checkedConns.Load(); n < 175 && !t.Failed() && ran.Load() == int64(len(pcaps)) {
			t.Errorf("only %d connections compared with tshark, want at least 175", n)
		}
	})
	for _, pcap := range pcaps {
		rel := strings.TrimPrefix(pcap, testutil.Corpus(t)+"/")
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ran.Add(1)
			if strings.Contains(rel, "dtls") || strings.Contains(rel, "/quic") {
				t.Skip("DTLS and QUIC are not TLS over TCP")
			}
			hellos := oracle.Hellos(t, pcap)
			tcp := 0
			for _, h := range hellos {
				if !h.UDP {
					tcp++
				}
			}
			if tcp == 0 {
				t.Skip("no TLS over TCP (QUIC, DTLS or cleartext)")
			}
			want := oracle.Conns(hellos)
			// The offered suites of the last ClientHello of each connection.
			offered := map[string][]uint16{}
			for _, h := range hellos {
				if h.Type == 1 && !h.UDP {
					offered[h.Src.String()+" "+h.Dst.String()] = h.CipherSuites
				}
			}
			streams := followStreams(t, pcap)
			var certs []*certRow
			var alerts []string
			certErrors := 0
			for i := range streams {
				s := &streams[i]
				key := s.client.String() + " " + s.server.String()
				w, ok := want[key]
				c := s.run(t, nil)
				sess := c.Session()
				if sess.Version != VersionSSL20 { // tshark's oracle does not extract SSLv2 certificates
					certs = append(certs, toCerts(sess.Certificates)...)
					certs = append(certs, toCerts(sess.ClientCertificates)...)
					certErrors += sess.CertificateErrors
				}
				for _, a := range sess.Alerts {
					if !a.Encrypted {
						alerts = append(alerts, fmt.Sprintf("%d/%d", a.Level, a.Description))
					}
				}
				if !ok {
					continue
				}
				checkedConns.Add(1)
				ch := sess.ClientHello
				if ch == nil {
					t.Errorf("%s: no ClientHello parsed (tshark saw %d)", key, w.ClientHellos)
					continue
				}
				if ch.ServerName != w.SNI {
					t.Errorf("%s: SNI %q, tshark %q", key, ch.ServerName, w.SNI)
				}
				if o := offered[key]; !equalU16(ch.CipherSuites, o) && !ch.SSLv2 {
					t.Errorf("%s: offered suites %x, tshark %x", key, ch.CipherSuites, o)
				}
				if ch.SSLv2 {
					// tshark's oracle reads the SSLv2 CLIENT-MASTER-KEY
					// (SSLv2 msg_type 2) as a ServerHello; the SSLv2
					// captures have their own tests.
					continue
				}
				if w.ServerHellos == 0 {
					if sess.ServerHello != nil {
						t.Errorf("%s: ServerHello parsed, tshark saw none", key)
					}
					continue
				}
				if sess.ServerHello == nil {
					t.Errorf("%s: no ServerHello parsed (tshark saw %d)", key, w.ServerHellos)
					continue
				}
				if sess.Version != w.Version && !(sess.Version == VersionSSL20 && w.Version == 0) {
					t.Errorf("%s: version %s, tshark %s", key, VersionName(sess.Version), VersionName(w.Version))
				}
				if sess.CipherSuite != w.CipherSuite && sess.Version != VersionSSL20 {
					t.Errorf("%s: suite %s, tshark %s", key, CipherSuiteName(sess.CipherSuite), CipherSuiteName(w.CipherSuite))
				}
			}
			if !keyLogged(pcap) {
				compareCerts(t, pcap, certs, certErrors)
				compareAlerts(t, pcap, alerts)
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// certRow is the part of a .tshark.certs.tsv row we compare.
type certRow struct {
	cn, serial, notAfter, sha1 string
}

func (r certRow) String() string { return r.sha1 + " " + r.serial + " " + r.notAfter + " CN=" + r.cn }

func toCerts(cs []*x509.Certificate) []*certRow {
	var out []*certRow
	for _, c := range cs {
		sum := sha1.Sum(c.Raw)
		out = append(out, &certRow{
			cn:       c.Subject.CommonName,
			serial:   strings.ToUpper(c.SerialNumber.Text(16)),
			notAfter: c.NotAfter.UTC().Format("2006-01-02T15:04:05+00:00"),
			sha1:     hex.EncodeToString(sum[:]),
		})
	}
	return out
}

// cnOf takes the CN out of an RFC 4514 string (python-cryptography's).
func cnOf(dn string) string {
	for _, p := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(p, "CN="); ok {
			return v
		}
	}
	return ""
}

// compareCerts checks our certificates against the oracle's. Rows the
// oracle's parser (python-cryptography) could not read are PARSE_ERROR
// rows: we may read them or not. Certificates crypto/x509 rejects are
// counted in errors; with those, the totals must agree.
func compareCerts(t *testing.T, pcap string, got []*certRow, errors int) {
	t.Helper()
	raw, err := os.ReadFile(pcap + ".tshark.certs.tsv")
	if err != nil {
		if len(got) > 0 {
			t.Errorf("%d certificates parsed, tshark has none", len(got))
		}
		return
	}
	var want []string
	rows, oracleErrors := 0, 0
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 {
			continue
		}
		rows++
		if len(f) < 8 {
			oracleErrors++
			continue
		}
		serial := strings.TrimLeft(f[6], "0")
		if serial == "" {
			serial = "0"
		}
		want = append(want, certRow{cn: cnOf(f[2]), serial: serial, notAfter: f[5], sha1: f[7]}.String())
	}
	wanted := map[string]int{}
	for _, w := range want {
		wanted[w]++
	}
	var have []string
	extra := 0
	for _, c := range got {
		have = append(have, c.String())
		if wanted[c.String()] > 0 {
			wanted[c.String()]--
		} else {
			extra++
		}
	}
	missing := 0
	for _, n := range wanted {
		missing += n
	}
	// Every oracle row is ours or one of our parse errors; anything we
	// have beyond the oracle's rows stands for its PARSE_ERROR rows.
	if missing > errors || extra > oracleErrors || len(got)+errors != rows {
		sort.Strings(want)
		sort.Strings(have)
		t.Errorf("certificates differ from tshark (%d rows, %d unreadable by the oracle; we parsed %d, %d errors)\n got:\n  %s\nwant:\n  %s",
			rows, oracleErrors, len(got), errors, strings.Join(have, "\n  "), strings.Join(want, "\n  "))
	}
}

func compareAlerts(t *testing.T, pcap string, got []string) {
	t.Helper()
	raw, err := os.ReadFile(pcap + ".tshark.alerts.tsv")
	var want []string
	if err == nil {
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			f := strings.Split(line, "\t")
			if i == 0 || len(f) < 9 {
				continue
			}
			want = append(want, f[7]+"/"+f[8])
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("plaintext alerts %v, tshark %v", got, want)
	}
}
