package cleartext

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// want is one expected secret: its kind, type, user and cleartext value.
type want struct{ kind, typ, user, value string }

func (w want) String() string { return w.kind + "/" + w.typ + " user=" + w.user + " value=" + w.value }

func got(secs []facts.Secret) []string {
	var out []string
	for _, s := range secs {
		out = append(out, want{s.Kind, s.Type, s.User, s.Value}.String())
	}
	sort.Strings(out)
	return out
}

func wanted(ws []want) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	sort.Strings(out)
	return out
}

// conv is a conversation: chunks in the order they crossed the wire.
type conv []followChunk

func c2s(s string) followChunk { return followChunk{tls.ClientToServer, []byte(s)} }
func s2c(s string) followChunk { return followChunk{tls.ServerToClient, []byte(s)} }

func run(p Protocol, cv conv, cfg Config, split int) runResult {
	return runStream(followStream{chunks: cv}, cfg, split)
}

// runAs feeds a conversation to a Stream of a given protocol (no sniffing).
func runAs(p Protocol, cv conv, cfg Config, cuts map[int]int) runResult {
	r := runResult{proto: p, startTLS: -1}
	st := NewStream(p, cfg, Handler{
		Secret: func(s facts.Secret) { r.secrets = append(r.secrets, s) },
		HTTP:   func(m facts.HTTPMessage) { r.http = append(r.http, m) },
	})
	ts := time.Unix(1700000000, 0)
	for i, c := range cv {
		parts := [][]byte{c.data}
		if at, ok := cuts[i]; ok && at > 0 && at < len(c.data) {
			parts = [][]byte{c.data[:at], c.data[at:]}
		}
		for _, d := range parts {
			// Feed a copy and scribble over it afterwards: the Stream
			// must not keep references to the caller's bytes.
			buf := append([]byte(nil), d...)
			if st.Feed(c.dir, buf, ts) {
				r.startTLS = i
				st.Close()
				return r
			}
			for j := range buf {
				buf[j] = 'Z'
			}
		}
	}
	st.Close()
	return r
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zl(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// ntlmAuthenticate builds an NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3)
// with Unicode names and an NTLMv2-sized NT response.
func ntlmAuthenticate(domain, user, host string, ntResp []byte) []byte {
	u16 := func(s string) []byte {
		var b []byte
		for _, r := range utf16.Encode([]rune(s)) {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	payload := [][]byte{make([]byte, 24), ntResp, u16(domain), u16(user), u16(host), nil}
	hdr := []byte("NTLMSSP\x00")
	hdr = binary.LittleEndian.AppendUint32(hdr, 3)
	off := 8 + 4 + 6*8 + 4
	var body []byte
	for _, p := range payload {
		hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(p)))
		hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(p)))
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(off+len(body)))
		body = append(body, p...)
	}
	hdr = binary.LittleEndian.AppendUint32(hdr, 0x00000001) // NEGOTIATE_UNICODE
	return append(hdr, body...)
}

const jwtExample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

// Planted well-known tokens, each shaped as its published pattern says
// (gitleaks rules aws-access-token, github-pat, slack-bot-token,
// stripe-access-token, gcp-api-key); all fake.
const (
	awsKey    = "AKIAZ7QXW3MPLR5TB2NV"
	ghToken   = "ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
	slackTok  = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	stripeKey = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	googleKey = "AIzaSyDq7mZ2xVbN4cT8wR1uY6iO3pL9kJ5hG0f"
	pemKey    = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n-----END RSA PRIVATE KEY-----"
)

var httpFixtures = []struct {
	name   string
	conv   conv
	want   []want
	nHTTP  int
	status []int
}{
	{"basic auth with a colon in the password", conv{c2s(crlf("GET /a HTTP/1.1\nHost: h\nAuthorization: Basic " + b64("test:1:34") + "\n\n"))},
		[]want{{KindCredentials, "basic-auth", "test", "1:34"}}, 1, nil},
	{"proxy basic auth on CONNECT, then a tunnel", conv{
		c2s(crlf("CONNECT example.com:443 HTTP/1.1\nHost: example.com:443\nProxy-Authorization: Basic " + b64("proxyuser:Pr0xyPass") + "\n\n")),
		s2c(crlf("HTTP/1.1 200 Connection established\n\n")),
		c2s("\x16\x03\x01\x00\x05hello")},
		[]want{{KindCredentials, "basic-auth", "proxyuser", "Pr0xyPass"}}, 1, []int{200}},
	{"digest auth is info", conv{c2s(crlf(`GET /dir/index.html HTTP/1.1
Host: h
Authorization: Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"

`))},
		[]want{{KindCredentials, "digest-auth", "Mufasa", "6629fae49393a05397450978507c4ef1"}}, 1, nil},
	{"bearer JWT", conv{c2s(crlf("GET /me HTTP/1.1\nHost: h\nAuthorization: Bearer " + jwtExample + "\n\n"))},
		[]want{{KindCredentials, "jwt", "", jwtExample}}, 1, nil},
	{"bearer opaque token", conv{c2s(crlf("GET /me HTTP/1.1\nHost: h\nAuthorization: Bearer 8f14e45fceea167a5a36dedd4bea2543\n\n"))},
		[]want{{KindCredentials, "bearer-token", "", "8f14e45fceea167a5a36dedd4bea2543"}}, 1, nil},
	{"NTLM authenticate", conv{c2s(crlf("GET / HTTP/1.1\nHost: h\nAuthorization: NTLM " +
		base64.StdEncoding.EncodeToString(ntlmAuthenticate("CORP", "bob", "WS1", make([]byte, 64))) + "\n\n"))},
		[]want{{KindCredentials, "ntlm", `CORP\bob`, base64.StdEncoding.EncodeToString(ntlmAuthenticate("CORP", "bob", "WS1", make([]byte, 64)))}}, 1, nil},
	{"form password names", conv{c2s(crlf("POST /account HTTP/1.1\nHost: h\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 93\n\n") +
		"user%5Blogin%5D=carol&user%5Bpassword%5D=Old%21Pass1&new_password=N3wPass%2B&passphrase=a+b+c")},
		[]want{{KindCredentials, "password-field", "carol", "Old!Pass1"}, {KindCredentials, "password-field", "carol", "N3wPass+"}, {KindCredentials, "password-field", "carol", "a b c"}}, 1, nil},
	{"nested JSON login with an e-mail user", conv{c2s(crlf("POST /api/login HTTP/1.1\nHost: h\nContent-Type: application/json\nContent-Length: 72\n\n") +
		`{"user":{"email":"dave@example.org","password":"JsonNested7"},"x":1}    `)},
		[]want{{KindCredentials, "password-field", "dave@example.org", "JsonNested7"}, {KindPII, "email", "", "dave@example.org"}}, 1, nil},
	{"chunked form", conv{c2s(crlf("POST /login HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nContent-Type: application/x-www-form-urlencoded\n\n") +
		"b\r\nusername=ed\r\n10\r\n&pwd=ChunkyPass1\r\n0\r\nX-Trailer: 1\r\n\r\n")},
		[]want{{KindCredentials, "password-field", "ed", "ChunkyPass1"}}, 1, nil},
	{"gzip request body", conv{c2s(crlf("POST /login HTTP/1.1\nHost: h\nContent-Type: application/x-www-form-urlencoded\nContent-Encoding: gzip\nContent-Length: "+
		fmt.Sprint(len(gz("login=fay&password=GzipPass3")))+"\n\n") + gz("login=fay&password=GzipPass3"))},
		[]want{{KindCredentials, "password-field", "fay", "GzipPass3"}}, 1, nil},
	{"multipart form with a key file", conv{c2s(crlf("POST /upload HTTP/1.1\nHost: h\nContent-Type: multipart/form-data; boundary=XyZ\nContent-Length: "+
		fmt.Sprint(len(multipartBody))+"\n\n") + multipartBody)},
		[]want{{KindCredentials, "password-field", "gus", "MultiPass4"}, {KindCredentials, "private-key", "", pemKey}}, 1, nil},
	{"query api key and access token", conv{c2s(crlf("GET /v1/items?api_key=k3y0123456789abc&access_token=t0k3n-abcdef-123456&page=2 HTTP/1.1\nHost: h\n\n"))},
		[]want{{KindCredentials, "api-key", "", "k3y0123456789abc"}, {KindCredentials, "token", "", "t0k3n-abcdef-123456"}}, 1, nil},
	{"token headers", conv{c2s(crlf("GET / HTTP/1.1\nHost: h\nX-Auth-Token: 0123456789abcdef0123\nX-Custom: " + ghToken + "\n\n"))},
		[]want{{KindCredentials, "api-key", "", "0123456789abcdef0123"}, {KindCredentials, "github-pat", "", ghToken}}, 1, nil},
	{"well-known tokens in a text body", conv{c2s(crlf("POST /paste HTTP/1.1\nHost: h\nContent-Type: text/plain\nContent-Length: "+
		fmt.Sprint(len(tokenText))+"\n\n") + tokenText)},
		[]want{{KindCredentials, "aws-access-key", "", awsKey}, {KindCredentials, "slack-bot-token", "", slackTok},
			{KindCredentials, "stripe-key", "", stripeKey}, {KindCredentials, "google-api-key", "", googleKey}}, 1, nil},
	{"session cookies", conv{c2s(crlf("GET / HTTP/1.1\nHost: h\nCookie: theme=dark; PHPSESSID=q1w2e3r4t5y6u7i8; JSESSIONID=ABCDEF0123456789\n\n")),
		s2c(crlf("HTTP/1.1 200 OK\nSet-Cookie: connect.sid=s%3Aabc.def; Path=/; HttpOnly; Secure\nSet-Cookie: laravel_session=eyJpdiI6; Path=/\nSet-Cookie: lang=en\nContent-Length: 0\n\n"))},
		[]want{{KindSessionCookie, "session-cookie", "", "q1w2e3r4t5y6u7i8"}, {KindSessionCookie, "session-cookie", "", "ABCDEF0123456789"},
			{KindSessionCookie, "set-cookie", "", "s%3Aabc.def"}, {KindSessionCookie, "set-cookie-without-secure", "", "eyJpdiI6"}}, 1, []int{200}},
	{"card numbers", conv{c2s(crlf("POST /pay HTTP/1.1\nHost: h\nContent-Type: application/x-www-form-urlencoded\nContent-Length: "+
		fmt.Sprint(len(cardForm))+"\n\n") + cardForm)},
		[]want{{KindCardNumber, "card-visa", "", "4111-1111-1111-1111"}, {KindCardNumber, "card-mastercard", "", "2223000048400011"},
			{KindCardNumber, "card-amex", "", "3782 822463 10005"}, {KindCardNumber, "card-discover", "", "6011111111111117"},
			{KindCardNumber, "card-jcb", "", "3530111333300000"}, {KindCardNumber, "card-diners", "", "30569309025904"},
			{KindCardNumber, "card-unionpay", "", "6200000000000005"}}, 1, nil},
	{"personal data", conv{c2s(crlf("GET /signup?email=hal%40example.net&ssn=123-45-6789&bad1=666-12-3456&bad2=900-12-3456&bad3=123-00-4567 HTTP/1.1\nHost: h\n\n"))},
		[]want{{KindPII, "email", "", "hal@example.net"}, {KindPII, "us-ssn", "", "123-45-6789"}}, 1, nil},
	{"login page read until close", conv{c2s(crlf("GET /login HTTP/1.0\nHost: h\n\n")),
		s2c(crlf("HTTP/1.0 200 OK\nContent-Type: text/html\n\n") + `<html><form action="/session?next=x" method="POST"><input name=u><INPUT TYPE=password NAME=pw></form></html>`)},
		[]want{{KindLoginPage, "password-form", "", ""}}, 1, []int{200}},
	{"deflate login page", conv{c2s(crlf("GET /login HTTP/1.1\nHost: h\n\n")),
		s2c(crlf("HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Encoding: deflate\nContent-Length: "+fmt.Sprint(len(zl(loginHTML)))+"\n\n") + zl(loginHTML))},
		[]want{{KindLoginPage, "password-form", "", ""}}, 1, []int{200}},
	{"pipelined requests, HEAD and 100-continue", conv{
		c2s(crlf("HEAD /x HTTP/1.1\nHost: h\n\nPOST /login HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 26\n\nuser=ida&password=Pipe1ine")),
		s2c(crlf("HTTP/1.1 200 OK\nContent-Length: 1000\n\nHTTP/1.1 100 Continue\n\nHTTP/1.1 302 Found\nLocation: /\nContent-Length: 0\n\n"))},
		[]want{{KindCredentials, "password-field", "ida", "Pipe1ine"}}, 2, []int{200, 302}},
	{"nothing secret", conv{c2s(crlf("GET /index.html?page=2&sort=asc&ts=1700000000123 HTTP/1.1\nHost: h\nUser-Agent: x\nAccept: */*\nCookie: theme=dark; lang=en\n\n")),
		s2c(crlf("HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 46\n\n<html><form><input type=text name=q></form>   "))},
		nil, 1, []int{200}},
}

var multipartBody = crlf(`--XyZ
Content-Disposition: form-data; name="username"

gus
--XyZ
Content-Disposition: form-data; name="password"

MultiPass4
--XyZ
Content-Disposition: form-data; name="file"; filename="id_rsa"
Content-Type: application/octet-stream

`) + pemKey + crlf(`
--XyZ--
`)

var tokenText = "deploy notes\naws " + awsKey + "\nslack " + slackTok + "\nstripe=" + stripeKey + "\nmaps " + googleKey + "\n"

// Test card numbers published by the schemes and payment processors.
var cardForm = "a=4111-1111-1111-1111&b=2223000048400011&c=3782+822463+10005&d=6011111111111117&e=3530111333300000&f=30569309025904&g=6200000000000005" +
	"&nonluhn=4111111111111112&noissuer=9999999999999995&order=1234567890123452"

const loginHTML = `<!DOCTYPE html><html><body><form method="post" action="/login"><input type="text" name="user"><input type="password" name="passwd"></form></body></html>`

func TestHTTPFixtures(t *testing.T) {
	for _, f := range httpFixtures {
		t.Run(f.name, func(t *testing.T) {
			r := runAs(HTTP, f.conv, Config{ShowSecrets: true}, nil)
			g, w := got(r.secrets), wanted(f.want)
			if strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("secrets:\n got %q\nwant %q", g, w)
			}
			if len(r.http) != f.nHTTP {
				t.Errorf("%d HTTP messages, want %d: %+v", len(r.http), f.nHTTP, r.http)
			}
			for i, st := range f.status {
				if i < len(r.http) && r.http[i].Status != st {
					t.Errorf("message %d status %d, want %d", i, r.http[i].Status, st)
				}
			}
			// Masked output never shows a planted value.
			masked := runAs(HTTP, f.conv, Config{}, nil)
			for _, s := range masked.secrets {
				if s.Value != "" {
					t.Errorf("Value without ShowSecrets: %+v", s)
				}
				for _, w := range f.want {
					if w.value != "" && w.value != w.user {
						checkMasked(t, s, w.value)
					}
				}
				if strings.Contains(s.Path, "=") && strings.Contains(s.Path, "k3y") {
					t.Errorf("path keeps query values: %q", s.Path)
				}
			}
		})
	}
}

// TestHTTPSplitAnywhere: cutting any chunk at any byte gives the same
// secrets and messages as feeding it whole.
func TestHTTPSplitAnywhere(t *testing.T) {
	for _, f := range httpFixtures {
		whole := runAs(HTTP, f.conv, Config{ShowSecrets: true}, nil)
		ref := strings.Join(got(whole.secrets), "\n")
		for i, c := range f.conv {
			for at := 1; at < len(c.data); at++ {
				r := runAs(HTTP, f.conv, Config{ShowSecrets: true}, map[int]int{i: at})
				if g := strings.Join(got(r.secrets), "\n"); g != ref || len(r.http) != len(whole.http) {
					t.Fatalf("%s: cut chunk %d at %d:\n got %s (%d http)\nwant %s (%d http)", f.name, i, at, g, len(r.http), ref, len(whole.http))
				}
			}
		}
		// And byte by byte.
		if r := run(HTTP, f.conv, Config{ShowSecrets: true}, 1); r.proto == HTTP && strings.Join(got(r.secrets), "\n") != ref {
			t.Errorf("%s: byte by byte:\n got %s\nwant %s", f.name, got(r.secrets), ref)
		}
	}
}

func TestHTTPMessageFacts(t *testing.T) {
	r := runAs(HTTP, conv{
		c2s(crlf("POST /login?user=x&password=secret1#frag HTTP/1.1\nHost: example.com\nUser-Agent: curl/8\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 3\n\na=b")),
		s2c(crlf("HTTP/1.1 401 Unauthorized\nContent-Type: text/html\nContent-Length: 5\n\nnope!")),
	}, Config{}, nil)
	if len(r.http) != 1 {
		t.Fatalf("%d messages", len(r.http))
	}
	m := r.http[0]
	exp := facts.HTTPMessage{Time: m.Time, Method: "POST", Host: "example.com", Path: "/login?user=&password=", Version: "HTTP/1.1",
		Status: 401, ContentType: "text/html", RequestBytes: int64(len(crlf("POST /login?user=x&password=secret1#frag HTTP/1.1\nHost: example.com\nUser-Agent: curl/8\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 3\n\na=b"))),
		ResponseBytes: int64(len(crlf("HTTP/1.1 401 Unauthorized\nContent-Type: text/html\nContent-Length: 5\n\nnope!"))), UserAgent: "curl/8"}
	if m != exp {
		t.Errorf("got  %+v\nwant %+v", m, exp)
	}
}

func TestHTTPLimits(t *testing.T) {
	// A body over MaxBody is framed (the next request is still read) but
	// not parsed past the limit, and the limit is counted.
	big := strings.Repeat("x", 5000)
	var kinds []string
	st := NewStream(HTTP, Config{ShowSecrets: true, MaxBody: 1000}, Handler{
		Anomaly: func(k string, _ tls.Direction, _ string) { kinds = append(kinds, k) },
	})
	var secs []facts.Secret
	st.h.Secret = func(s facts.Secret) { secs = append(secs, s) }
	req := crlf("POST /up HTTP/1.1\nHost: h\nContent-Type: text/plain\nContent-Length: 5000\n\n") + big +
		crlf("GET /?password=AfterBig1 HTTP/1.1\nHost: h\n\n")
	st.Feed(tls.ClientToServer, []byte(req), time.Time{})
	st.Close()
	if st.Truncated != 1 || len(kinds) != 1 || kinds[0] != "http_body_over_limit" {
		t.Errorf("truncated %d, anomalies %v", st.Truncated, kinds)
	}
	if len(secs) != 1 || secs[0].Value != "AfterBig1" {
		t.Errorf("secrets after a big body: %+v", secs)
	}
	// A gzip bomb stops at MaxBody.
	bomb := gz(strings.Repeat("A", 1<<20))
	kinds = nil
	st = NewStream(HTTP, Config{MaxBody: 4096}, Handler{Anomaly: func(k string, _ tls.Direction, _ string) { kinds = append(kinds, k) }})
	st.Feed(tls.ClientToServer, []byte(crlf("POST / HTTP/1.1\nHost: h\nContent-Encoding: gzip\nContent-Type: text/plain\nContent-Length: "+fmt.Sprint(len(bomb))+"\n\n")+bomb), time.Time{})
	if len(kinds) != 1 || kinds[0] != "http_decompressed_over_limit" {
		t.Errorf("gzip bomb anomalies %v", kinds)
	}
	// A header block over the limit stops that direction.
	kinds = nil
	st = NewStream(HTTP, Config{}, Handler{Anomaly: func(k string, _ tls.Direction, _ string) { kinds = append(kinds, k) }})
	st.Feed(tls.ClientToServer, []byte("GET / HTTP/1.1\r\nX: "+strings.Repeat("a", maxHeaderBytes)), time.Time{})
	if len(kinds) != 1 || kinds[0] != "http_header_too_long" {
		t.Errorf("long header anomalies %v", kinds)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"hunter2", "hun*** (7 chars)"},
		{"qwerty", "qw*** (6 chars)"},
		{"pfres", "pf*** (5 chars)"},
		{"abc", "a*** (3 chars)"},
		{"ab", "*** (2 chars)"},
		{"x", "*** (1 char)"},
		{"", "*** (0 chars)"},
		{"pässwörter", "päs*** (10 chars)"},
	} {
		if g := Mask(tc.in); g != tc.out {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, g, tc.out)
		}
	}
	if g := MaskCard("4111 1111 1111 1111"); g != "411111******1111" {
		t.Errorf("MaskCard = %q", g)
	}
	if g := MaskCard("378282246310005"); g != "378282*****0005" {
		t.Errorf("MaskCard amex = %q", g)
	}
	// sha256("abc") starts ba7816bf (FIPS 180-2, appendix B.1).
	if g := MaskToken("github-pat", "abc"); g != "github-pat sha256:ba7816bf…" {
		t.Errorf("MaskToken = %q", g)
	}
}

func TestLuhnAndIssuers(t *testing.T) {
	for _, tc := range []struct {
		n      string
		luhn   bool
		issuer string
	}{
		{"4111111111111111", true, "visa"},
		{"5555555555554444", true, "mastercard"},
		{"2720999999999996", true, "mastercard"},
		{"378282246310005", true, "amex"},
		{"6011000990139424", true, "discover"},
		{"3566002020360505", true, "jcb"},
		{"36227206271667", true, "diners"},
		{"6200000000000005", true, "unionpay"},
		{"4111111111111112", false, "visa"},
		{"1234567890123452", true, ""},
	} {
		if luhn(tc.n) != tc.luhn || cardIssuer(tc.n) != tc.issuer {
			t.Errorf("%s: luhn %v issuer %q", tc.n, luhn(tc.n), cardIssuer(tc.n))
		}
	}
}

func TestClassify(t *testing.T) {
	for name, want := range map[string]fieldClass{
		"password": classPassword, "Passwd": classPassword, "pwd": classPassword, "pass": classPassword,
		"user[password]": classPassword, "new_password": classPassword, "passphrase": classPassword,
		"confirm-password": classPassword, "secret": classSecret, "client_secret": classSecret,
		"api_key": classToken, "apikey": classToken, "access_token": classToken, "X-Api-Key": classToken,
		"csrf_token": classNone, "authenticity_token": classNone, "_token": classNone, "csrfmiddlewaretoken": classNone,
		"username": classUser, "email": classUser, "passport_number": classNone, "page": classNone,
	} {
		if g := classify(name); g != want {
			t.Errorf("classify(%q) = %d, want %d", name, g, want)
		}
	}
}

// TestHTTPGap: after bytes are lost on the server side, requests are still
// read and reported, unanswered; after a client-side gap nothing more is
// parsed from the client, and what came before stands.
func TestHTTPGap(t *testing.T) {
	var secs []facts.Secret
	var msgs []facts.HTTPMessage
	st := NewStream(HTTP, Config{ShowSecrets: true}, Handler{
		Secret: func(s facts.Secret) { secs = append(secs, s) },
		HTTP:   func(m facts.HTTPMessage) { msgs = append(msgs, m) },
	})
	ts := time.Time{}
	st.Feed(tls.ClientToServer, []byte(crlf("GET /a HTTP/1.1\nHost: h\n\n")), ts)
	st.Feed(tls.ServerToClient, []byte(crlf("HTTP/1.1 200 OK\nContent-Length: 100\n\npartial")), ts)
	st.Gap(tls.ServerToClient)
	st.Feed(tls.ServerToClient, []byte("more body"), ts)
	for i := 0; i < 2*maxPipelined; i++ {
		st.Feed(tls.ClientToServer, []byte(crlf("GET /b?password=GapPass1 HTTP/1.1\nHost: h\n\n")), ts)
	}
	if len(msgs) != 2*maxPipelined {
		t.Errorf("%d messages reported before close, want %d", len(msgs), 2*maxPipelined)
	}
	if st.Truncated != 0 {
		t.Errorf("truncated %d", st.Truncated)
	}
	st.Gap(tls.ClientToServer)
	st.Feed(tls.ClientToServer, []byte(crlf("GET /c?password=AfterGap2 HTTP/1.1\nHost: h\n\n")), ts)
	st.Close()
	if len(secs) != 1 || secs[0].Value != "GapPass1" {
		t.Errorf("secrets %+v", secs)
	}
	if len(msgs) != 2*maxPipelined+1 || msgs[len(msgs)-1].Path != "/a" || msgs[len(msgs)-1].Status != 0 {
		t.Errorf("the first request is reported unanswered at close: %d messages", len(msgs))
	}
}

// TestLineGap: a gap drops the partial line; the next full line parses.
func TestLineGap(t *testing.T) {
	var secs []facts.Secret
	st := NewStream(FTP, Config{ShowSecrets: true}, Handler{Secret: func(s facts.Secret) { secs = append(secs, s) }})
	st.Feed(tls.ClientToServer, []byte("USER a\r\nPASS lost"), time.Time{})
	st.Gap(tls.ClientToServer)
	st.Feed(tls.ClientToServer, []byte("word\r\nUSER b\r\nPASS Kept1\r\n"), time.Time{})
	if len(secs) != 1 || secs[0].User != "b" || secs[0].Value != "Kept1" {
		t.Errorf("secrets %+v", secs)
	}
}

func TestTokenLike(t *testing.T) {
	for v, want := range map[string]bool{
		"k3y0123456789abc": true, "t0k3n-abcdef-123456": true, "mountains-in-spring": false,
		"abcdefghijklmnopqrstuvwxyz": true, "12345678": false, "true": false, "has space 123": false,
	} {
		if tokenLike(v) != want {
			t.Errorf("tokenLike(%q) = %v", v, !want)
		}
	}
}

// TestHTTPDoneAtLastResponse: once the response to the client's last
// request (RFC 9112: "Connection: close", or HTTP/1.0 without keep-alive)
// has a body that is not read, the stream is Done at its headers, reports
// the exchange with the body's declared length, and ignores what follows.
func TestHTTPDoneAtLastResponse(t *testing.T) {
	const body = "0123456789"
	resp := func(ct string) string {
		return crlf("HTTP/1.1 200 OK\nContent-Type: " + ct + "\nContent-Length: 10\n\n")
	}
	for _, tc := range []struct {
		name string
		reqs []string
		ct   string
		done bool // after the headers of the response to the last request
	}{
		{"close", []string{"GET / HTTP/1.1\nHost: h\nConnection: close\n\n"}, "application/octet-stream", true},
		{"close among tokens", []string{"GET / HTTP/1.1\nHost: h\nConnection: keep-alive, Close\n\n"}, "image/png", true},
		{"HTTP/1.0", []string{"GET / HTTP/1.0\nHost: h\n\n"}, "application/octet-stream", true},
		{"keep-alive", []string{"GET / HTTP/1.1\nHost: h\n\n"}, "application/octet-stream", false},
		{"HTTP/1.0 keep-alive", []string{"GET / HTTP/1.0\nHost: h\nConnection: keep-alive\n\n"}, "application/octet-stream", false},
		{"body read (JSON)", []string{"GET / HTTP/1.1\nHost: h\nConnection: close\n\n"}, "application/json", false},
		{"body read (no type)", []string{"GET / HTTP/1.1\nHost: h\nConnection: close\n\n"}, "", false},
		{"pipelined", []string{"GET /a HTTP/1.1\nHost: h\n\n", "GET /b HTTP/1.1\nHost: h\nConnection: close\n\n"}, "application/octet-stream", true},
	} {
		var msgs []facts.HTTPMessage
		var kinds []string
		st := NewStream(HTTP, Config{}, Handler{
			HTTP:    func(m facts.HTTPMessage) { msgs = append(msgs, m) },
			Anomaly: func(k string, _ tls.Direction, _ string) { kinds = append(kinds, k) },
		})
		for _, r := range tc.reqs {
			st.Feed(tls.ClientToServer, []byte(crlf(r)), time.Time{})
		}
		head := resp(tc.ct)
		if tc.ct == "" {
			head = crlf("HTTP/1.1 200 OK\nContent-Length: 10\n\n")
		}
		for i := range tc.reqs {
			if st.Done() {
				t.Errorf("%s: Done before response %d", tc.name, i+1)
			}
			st.Feed(tls.ServerToClient, []byte(head), time.Time{})
			if i < len(tc.reqs)-1 {
				st.Feed(tls.ServerToClient, []byte(body), time.Time{})
			}
		}
		if st.Done() != tc.done {
			t.Errorf("%s: Done = %v after the last response's headers, want %v", tc.name, st.Done(), tc.done)
		}
		// What follows is the body, then bytes no parser should see.
		st.Feed(tls.ServerToClient, []byte(body+"garbage\r\n\r\n"), time.Time{})
		st.Close()
		if len(msgs) != len(tc.reqs) {
			t.Fatalf("%s: %d exchanges reported, want %d", tc.name, len(msgs), len(tc.reqs))
		}
		last := msgs[len(msgs)-1]
		if want := int64(len(head) + len(body)); last.ResponseBytes != want || last.Status != 200 {
			t.Errorf("%s: last exchange status %d, %d response bytes, want 200 and %d", tc.name, last.Status, last.ResponseBytes, want)
		}
		if tc.done && len(kinds) > 0 {
			t.Errorf("%s: anomalies %v after the stream was done", tc.name, kinds)
		}
	}
}
