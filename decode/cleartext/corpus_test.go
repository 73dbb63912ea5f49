package cleartext

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// oracleRow is one row of the request-field table of a .tshark.creds.txt
// oracle file (tshark's own dissection of the capture).
type oracleRow map[string]string

// readOracle reads the users of tshark's credentials table and the rows
// of the request-field table.
func readOracle(t *testing.T, path string) (users []string, rows []oracleRow) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols []string
	inCreds := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Packet "):
			inCreds = true
		case strings.HasPrefix(l, "----"), strings.HasPrefix(l, "===="):
			if strings.HasPrefix(l, "====") && len(users) > 0 {
				inCreds = false
			}
		case strings.HasPrefix(l, "frame.number\t"):
			cols = strings.Split(l, "\t")
			inCreds = false
		case cols != nil:
			vals := strings.Split(l, "\t")
			row := oracleRow{}
			for i, c := range cols {
				if i < len(vals) {
					row[c] = vals[i]
				}
			}
			rows = append(rows, row)
		case inCreds:
			f := strings.Fields(l)
			// "4  HTTP basic auth  test": the user is the field after the
			// protocol name, which may be several words.
			if len(f) >= 3 {
				proto := map[string]int{"FTP": 2, "POP3": 2, "IMAP": 2, "SMTP": 2, "HTTP": 4}
				if n, ok := proto[f[1]]; ok && len(f) > n {
					users = append(users, f[n])
				}
			}
		}
	}
	return users, rows
}

func credentials(res map[int]runResult) []facts.Secret {
	var out []facts.Secret
	for _, r := range res {
		for _, s := range r.secrets {
			if s.Kind == KindCredentials {
				out = append(out, s)
			}
		}
	}
	return out
}

func hasCred(secs []facts.Secret, user, pass string) bool {
	for _, s := range secs {
		if s.User == user && s.Value == pass && s.Severity == "" {
			return true
		}
	}
	return false
}

// TestCorpusLogins checks the users and passwords found in public captures
// of cleartext logins against tshark's dissection of the same captures.
func TestCorpusLogins(t *testing.T) {
	corpus := testutil.Corpus(t)
	tshark := testutil.Tool(t, "tshark")
	cases := []struct {
		pcap  string
		proto Protocol
		// expected returns the user and password that tshark saw.
		expected func(users []string, rows []oracleRow) (string, string)
	}{
		{"zeek/testing/btest/Traces/ftp/ftp-password-pass-command.pcap", FTP, func(_ []string, rows []oracleRow) (string, string) {
			var u, p string
			for _, r := range rows {
				switch r["ftp.request.command"] {
				case "USER":
					u = r["ftp.request.arg"]
				case "PASS":
					p = r["ftp.request.arg"]
				}
			}
			return u, p
		}},
		{"zeek/testing/btest/Traces/http/basic-auth-with-colon.pcap", HTTP, basicFromOracle},
		{"nDPI/tests/cfgs/default/pcap/http_auth.pcap", HTTP, basicFromOracle},
		{"nDPI/tests/cfgs/default/pcap/imap.pcap", IMAP, func(_ []string, rows []oracleRow) (string, string) {
			for _, r := range rows {
				f := strings.Fields(r["imap.request"])
				if len(f) == 4 && strings.EqualFold(f[1], "LOGIN") {
					return f[2], f[3]
				}
			}
			return "", ""
		}},
		{"nDPI/tests/cfgs/default/pcap/pop3.pcap", POP3, nil},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.pcap), func(t *testing.T) {
			t.Parallel()
			pcap := filepath.Join(corpus, tc.pcap)
			users, rows := readOracle(t, pcap+".tshark.creds.txt")
			var user, pass string
			if tc.expected != nil {
				user, pass = tc.expected(users, rows)
			} else {
				// POP3: the oracle names the user; tshark gives the PASS
				// argument of the same capture.
				if len(users) == 0 {
					t.Fatal("oracle has no POP3 user")
				}
				user = users[0]
				out, err := exec.Command(tshark, "-r", pcap, "-Y", `lower(pop.request.command) == "pass"`, "-T", "fields", "-e", "pop.request.parameter").Output()
				if err != nil {
					t.Fatal(err)
				}
				pass = strings.TrimSpace(strings.Split(string(out), "\n")[0])
			}
			if user == "" || pass == "" {
				t.Fatalf("oracle gave no credentials (user %q)", user)
			}
			res := runCapture(t, pcap, Config{ShowSecrets: true})
			creds := credentials(res)
			if !hasCred(creds, user, pass) {
				t.Errorf("no %s credential %q/%q; got %+v", tc.proto, user, pass, creds)
			}
			for _, s := range creds {
				if s.Protocol != string(tc.proto) {
					t.Errorf("credential from protocol %q, want %q", s.Protocol, tc.proto)
				}
			}
			// Masked forms never carry the password.
			res = runCapture(t, pcap, Config{})
			for _, r := range res {
				for _, s := range r.secrets {
					checkMasked(t, s, pass)
					if s.Value != "" {
						t.Errorf("Value set without ShowSecrets: %+v", s)
					}
				}
			}
		})
	}
}

func basicFromOracle(_ []string, rows []oracleRow) (string, string) {
	for _, r := range rows {
		if v := r["http.authbasic"]; v != "" {
			u, p, _ := strings.Cut(v, ":")
			return u, p
		}
	}
	return "", ""
}

// checkMasked fails when any printable field of a secret shows value.
func checkMasked(t *testing.T, s facts.Secret, value string) {
	t.Helper()
	if value == "" {
		return
	}
	for _, f := range []string{s.Masked, s.Detail, s.Field, s.Path} {
		if strings.Contains(f, value) {
			t.Errorf("secret %q shows %q: %+v", s.Type, value, s)
		}
	}
	if s.User != "" && strings.Contains(s.User, value) && s.User != value {
		t.Errorf("user of %q shows %q: %+v", s.Type, value, s)
	}
}

// TestCorpusStartTLS: sessions that upgrade before any credential give no
// credential, and Feed reports the upgrade on the server's acceptance, the
// chunk after which the client's bytes are TLS.
func TestCorpusStartTLS(t *testing.T) {
	corpus := testutil.Corpus(t)
	for _, tc := range []struct {
		pcap  string
		proto Protocol
	}{
		{"zeek/testing/btest/Traces/tls/smtp-starttls.pcap", SMTP},
		{"zeek/testing/btest/Traces/tls/imap-starttls.pcap", IMAP},
		{"zeek/testing/btest/Traces/tls/pop3-starttls.pcap", POP3},
		{"nDPI/tests/cfgs/default/pcap/ftp-start-tls.pcap", FTP},
		{"nDPI/tests/cfgs/default/pcap/pop3_stls.pcap", POP3},
	} {
		t.Run(filepath.Base(tc.pcap), func(t *testing.T) {
			t.Parallel()
			checkStartTLS(t, filepath.Join(corpus, tc.pcap), tc.proto)
		})
	}
}

func checkStartTLS(t *testing.T, pcap string, proto Protocol) {
	t.Helper()
	upgraded := 0
	for _, fs := range followTCP(t, pcap) {
		r := runStream(fs, Config{ShowSecrets: true}, 0)
		if r.proto == "" {
			continue
		}
		if r.proto != proto {
			t.Errorf("stream %d sniffed as %q, want %q", fs.index, r.proto, proto)
		}
		for _, s := range r.secrets {
			if s.Kind == KindCredentials && s.Severity == "" {
				t.Errorf("stream %d: credential before TLS: %+v", fs.index, s)
			}
		}
		if r.startTLS < 0 {
			t.Errorf("stream %d: no STARTTLS reported", fs.index)
			continue
		}
		upgraded++
		// Independent check of the point: the acceptance was a server
		// chunk, no chunk before it is TLS, and the next client chunk
		// starts like a TLS record.
		if fs.chunks[r.startTLS].dir != tls.ServerToClient {
			t.Errorf("stream %d: upgrade on a client chunk", fs.index)
		}
		for _, c := range fs.chunks[:r.startTLS+1] {
			if tls.Sniff(c.data) == tls.Yes {
				t.Errorf("stream %d: TLS before the upgrade was reported", fs.index)
			}
		}
		next := -1
		for i := r.startTLS + 1; i < len(fs.chunks); i++ {
			if fs.chunks[i].dir == tls.ClientToServer {
				next = i
				break
			}
		}
		if next < 0 || len(fs.chunks[next].data) < 3 || fs.chunks[next].data[0] != 22 || fs.chunks[next].data[1] != 3 {
			t.Errorf("stream %d: the client's bytes after the upgrade are not a TLS handshake record", fs.index)
		}
	}
	if upgraded == 0 {
		t.Error("no stream upgraded")
	}
}

// TestCorpusPlainHTTPNoFalsePositive: the plain HTTP of an ordinary
// browsing capture (a certificate fetch) holds no secret.
func TestCorpusPlainHTTPNoFalsePositive(t *testing.T) {
	corpus := testutil.Corpus(t)
	// Only the port-80 streams: the rest is TLS, handled elsewhere.
	httpSeen := 0
	for _, fs := range followTCPFiltered(t, filepath.Join(corpus, "ja4/pcap/tls3.pcapng"), "tcp.port == 80") {
		r, i := runStream(fs, Config{}, 0), fs.index
		if r.proto == HTTP {
			httpSeen += len(r.http)
		}
		for _, s := range r.secrets {
			t.Errorf("stream %d: false positive %+v", i, s)
		}
	}
	if httpSeen == 0 {
		t.Error("the plain HTTP request was not seen")
	}
}
