package cleartext

import (
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"testing"
)

var lineFixtures = []struct {
	name     string
	proto    Protocol
	conv     conv
	want     []want
	startTLS int // chunk index of the upgrade, -1 none
}{
	{"FTP login", FTP, conv{s2c("220 ready\r\n"), c2s("USER Admin\r\n"), s2c("331 pw\r\n"), c2s("PASS qwerty\r\n"), s2c("230 ok\r\n")},
		[]want{{KindCredentials, "password", "Admin", "qwerty"}}, -1},
	{"FTP anonymous is info", FTP, conv{s2c("220 ready\r\n"), c2s("USER anonymous\r\nPASS guest@example.com\r\n")},
		[]want{{KindCredentials, "password", "anonymous", "guest@example.com"}}, -1},
	{"FTP AUTH TLS accepted", FTP, conv{s2c("220 ready\r\n"), c2s("AUTH TLS\r\n"), s2c("234 AUTH TLS OK.\r\n"), c2s("\x16\x03\x01")},
		nil, 2},
	{"FTP AUTH TLS refused, then a login in the clear", FTP, conv{s2c("220 ready\r\n"), c2s("AUTH TLS\r\n"), s2c("500 no\r\n"), c2s("USER u\r\nPASS p4ss\r\n")},
		[]want{{KindCredentials, "password", "u", "p4ss"}}, -1},
	{"SMTP AUTH PLAIN with initial response", SMTP, conv{s2c("220 mx ESMTP\r\n"), c2s("EHLO c\r\n"), s2c("250-mx\r\n250 AUTH PLAIN LOGIN\r\n"),
		c2s("AUTH PLAIN " + b64("\x00alice\x00SmtpPlainPass1") + "\r\n"), s2c("235 ok\r\n")},
		[]want{{KindCredentials, "sasl-plain", "alice", "SmtpPlainPass1"}}, -1},
	{"SMTP AUTH LOGIN", SMTP, conv{s2c("220 mx\r\n"), c2s("AUTH LOGIN\r\n"), s2c("334 VXNlcm5hbWU6\r\n"), c2s(b64("bob") + "\r\n"),
		s2c("334 UGFzc3dvcmQ6\r\n"), c2s(b64("L0ginPass") + "\r\n"), s2c("235 ok\r\n")},
		[]want{{KindCredentials, "sasl-login", "bob", "L0ginPass"}}, -1},
	{"SMTP AUTH LOGIN with the user on the command line", SMTP, conv{s2c("220 mx\r\n"), c2s("AUTH LOGIN " + b64("carl") + "\r\n"),
		s2c("334 UGFzc3dvcmQ6\r\n"), c2s(b64("IrPass9") + "\r\n"), s2c("235 ok\r\n")},
		[]want{{KindCredentials, "sasl-login", "carl", "IrPass9"}}, -1},
	// RFC 2195, 2: the example exchange.
	{"SMTP CRAM-MD5 is info", SMTP, conv{s2c("220 mx\r\n"), c2s("AUTH CRAM-MD5\r\n"), s2c("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
		c2s("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"), s2c("235 ok\r\n")},
		[]want{{KindCredentials, "cram-md5", "tim", "b913a602c7eda7a495b4e6e7334d3890"}}, -1},
	{"SMTP XOAUTH2", SMTP, conv{s2c("220 mx\r\n"), c2s("AUTH XOAUTH2 " + b64("user=dan@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01") + "\r\n")},
		[]want{{KindCredentials, "oauth-bearer", "dan@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"}}, -1},
	{"SMTP STARTTLS", SMTP, conv{s2c("220 mx\r\n"), c2s("EHLO c\r\n"), s2c("250-mx\r\n250 STARTTLS\r\n"), c2s("STARTTLS\r\n"), s2c("220 go ahead\r\n"), c2s("\x16\x03\x01")},
		nil, 4},
	{"SMTP DATA is not read as commands", SMTP, conv{s2c("220 mx\r\n"), c2s("DATA\r\n"), s2c("354 go\r\n"), c2s("AUTH PLAIN " + b64("\x00x\x00NotACredential") + "\r\n.\r\n"), s2c("250 ok\r\n")},
		nil, -1},
	{"POP3 USER/PASS", POP3, conv{s2c("+OK ready\r\n"), c2s("USER erin\r\n"), s2c("+OK\r\n"), c2s("PASS Pop3Pass\r\n"), s2c("+OK\r\n")},
		[]want{{KindCredentials, "password", "erin", "Pop3Pass"}}, -1},
	// RFC 1939, 7: the APOP example.
	{"POP3 APOP is info", POP3, conv{s2c("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"), c2s("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")},
		[]want{{KindCredentials, "apop", "mrose", "c4c9334bac560ecc979e58001b3e22fb"}}, -1},
	{"POP3 AUTH PLAIN after a continuation", POP3, conv{s2c("+OK\r\n"), c2s("AUTH PLAIN\r\n"), s2c("+ \r\n"), c2s(b64("\x00frank\x00Pop3Plain") + "\r\n"), s2c("+OK\r\n")},
		[]want{{KindCredentials, "sasl-plain", "frank", "Pop3Plain"}}, -1},
	{"POP3 STLS", POP3, conv{s2c("+OK\r\n"), c2s("CAPA\r\n"), s2c("+OK\r\nSTLS\r\n.\r\n"), c2s("STLS\r\n"), s2c("+OK Begin TLS\r\n"), c2s("\x16\x03\x01")},
		nil, 4},
	{"IMAP LOGIN with atoms", IMAP, conv{s2c("* OK ready\r\n"), c2s("a1 LOGIN samir pfres\r\n"), s2c("a1 OK\r\n")},
		[]want{{KindCredentials, "password", "samir", "pfres"}}, -1},
	{"IMAP LOGIN with a quoted password and a literal", IMAP, conv{s2c("* OK\r\n"), c2s("a2 LOGIN {4}\r\n"), s2c("+ go\r\n"), c2s("gina \"Quoted \\\"Pass\\\"\"\r\n"), s2c("a2 OK\r\n")},
		[]want{{KindCredentials, "password", "gina", `Quoted "Pass"`}}, -1},
	{"IMAP AUTHENTICATE PLAIN", IMAP, conv{s2c("* OK\r\n"), c2s("a3 AUTHENTICATE PLAIN\r\n"), s2c("+\r\n"), c2s(b64("\x00hank\x00ImapPlain") + "\r\n"), s2c("a3 OK\r\n")},
		[]want{{KindCredentials, "sasl-plain", "hank", "ImapPlain"}}, -1},
	{"IMAP STARTTLS", IMAP, conv{s2c("* OK\r\n"), c2s(". CAPABILITY\r\n"), s2c("* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK\r\n"), c2s(". STARTTLS\r\n"), s2c(". OK Begin TLS\r\n"), c2s("\x16\x03\x01")},
		nil, 4},
	{"IMAP STARTTLS refused", IMAP, conv{s2c("* OK\r\n"), c2s("x STARTTLS\r\n"), s2c("x NO not now\r\n"), c2s("y LOGIN ivy IvyPass\r\n")},
		[]want{{KindCredentials, "password", "ivy", "IvyPass"}}, -1},
	{"Telnet, character at a time with negotiation", Telnet, conv{
		s2c("\xff\xfb\x01\xff\xfb\x03\r\nhost\r\nlogin: "), c2s("\xff\xfd\x01"), c2s("j"), s2c("j"), c2s("o"), s2c("o"), c2s("\xff\xfa\x18\x00VT100\xff\xf0"),
		c2s("e\r\x00"), s2c("e\r\nPassword: "), c2s("Tel"), c2s("netX"), c2s("\x7fPass\r\n"), s2c("\r\n$ ")},
		[]want{{KindCredentials, "password", "joe", "TelnetPass"}}, -1},
}

func TestLineFixtures(t *testing.T) {
	for _, f := range lineFixtures {
		t.Run(f.name, func(t *testing.T) {
			r := runAs(f.proto, f.conv, Config{ShowSecrets: true}, nil)
			g, w := got(r.secrets), wanted(f.want)
			if strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("secrets:\n got %q\nwant %q", g, w)
			}
			if r.startTLS != f.startTLS {
				t.Errorf("startTLS at chunk %d, want %d", r.startTLS, f.startTLS)
			}
			for _, s := range r.secrets {
				if s.Protocol != string(f.proto) {
					t.Errorf("protocol %q", s.Protocol)
				}
				wantSev := ""
				if s.Type == "cram-md5" || s.Type == "apop" || s.User == "anonymous" {
					wantSev = "info"
				}
				if s.Severity != wantSev {
					t.Errorf("%s severity %q, want %q", s.Type, s.Severity, wantSev)
				}
			}
			masked := runAs(f.proto, f.conv, Config{}, nil)
			for _, s := range masked.secrets {
				for _, w := range f.want {
					checkMasked(t, s, w.value)
				}
			}
			// Any cut of any chunk gives the same result.
			for i, c := range f.conv {
				for at := 1; at < len(c.data); at++ {
					r2 := runAs(f.proto, f.conv, Config{ShowSecrets: true}, map[int]int{i: at})
					if strings.Join(got(r2.secrets), "\n") != strings.Join(g, "\n") || r2.startTLS != r.startTLS {
						t.Fatalf("cut chunk %d at %d: %q (tls %d)", i, at, got(r2.secrets), r2.startTLS)
					}
				}
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		data string
		s2c  bool
		port uint16
		want Protocol
	}{
		{"GET / HTTP/1.1\r\n", false, 8080, HTTP},
		{"HTTP/1.1 200 OK\r\n", true, 8080, HTTP},
		{"220 captures FTP ready\r\n", true, 47462, FTP},
		{"220 localhost ESMTP captures\r\n", true, 47463, SMTP},
		{"220 welcome\r\n", true, 25, SMTP},
		{"220 welcome\r\n", true, 21, FTP},
		{"+OK captures POP3 ready\r\n", true, 47465, POP3},
		{"* OK [CAPABILITY IMAP4rev1] ready\r\n", true, 47466, IMAP},
		{"\xff\xfb\x01\xff\xfb\x03", true, 47471, Telnet},
		{"EHLO client\r\n", false, 2525, SMTP},
		{"a001 LOGIN x y\r\n", false, 9999, IMAP},
		{"USER x\r\n", false, 110, POP3},
		{"USER x\r\n", false, 2121, FTP},
		{ldapBindHex, false, 389, LDAP},
		{"\x16\x03\x01\x00\x05", false, 443, ""},
		{"SSH-2.0-OpenSSH_9.2\r\n", true, 22, ""},
	} {
		data := tc.data
		if tc.want == LDAP {
			b, _ := hex.DecodeString(tc.data)
			data = string(b)
		}
		dir := c2s("").dir
		if tc.s2c {
			dir = s2c("").dir
		}
		if g := Sniff([]byte(data), dir, tc.port); g != tc.want {
			t.Errorf("Sniff(%q, port %d) = %q, want %q", tc.data, tc.port, g, tc.want)
		}
	}
}

// An LDAPv3 simple bind (RFC 4511, 4.2), labelled:
const ldapBindHex = "3031" + // LDAPMessage SEQUENCE, 49 bytes
	"020101" + // messageID 1
	"602c" + // [APPLICATION 0] BindRequest, 44 bytes
	"020103" + // version 3
	"041a" + "636e3d61646d696e2c64633d6578616d706c652c64633d6f7267" + // name "cn=admin,dc=example,dc=org"
	"800b" + "4c64617053656372657439" // simple [0] "LdapSecret9"

// StartTLS extended request and its success response (RFC 4511, 4.14).
const (
	ldapStartTLSReq = "301d" + "020101" + "7718" + "8016" + "312e332e362e312e342e312e313436362e3230303337" // 1.3.6.1.4.1.1466.20037
	ldapStartTLSOK  = "300c" + "020101" + "7807" + "0a0100" + "0400" + "0400"
)

func TestLDAP(t *testing.T) {
	// Go's encoding/asn1 (an independent parser) agrees the fixture is one
	// well-formed element.
	raw, _ := hex.DecodeString(ldapBindHex)
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(raw, &v); err != nil || len(rest) != 0 {
		t.Fatalf("fixture is not BER: %v", err)
	}
	bind := string(raw)
	r := runAs(LDAP, conv{c2s(bind)}, Config{ShowSecrets: true}, nil)
	if g := got(r.secrets); len(g) != 1 || g[0] != (want{KindCredentials, "ldap-simple-bind", "cn=admin,dc=example,dc=org", "LdapSecret9"}).String() {
		t.Errorf("bind: %q", g)
	}
	// Byte by byte, and two binds in one chunk.
	if r := run(LDAP, conv{c2s(bind + bind)}, Config{ShowSecrets: true}, 1); len(r.secrets) != 1 {
		t.Errorf("byte by byte: %d secrets (duplicates are reported once)", len(r.secrets))
	}
	// Active Directory's non-minimal four-byte lengths.
	long, _ := hex.DecodeString("308400000035" + "020101" + "60840000002c" + ldapBindHex[14:])
	if r := runAs(LDAP, conv{c2s(string(long))}, Config{}, nil); len(r.secrets) != 1 {
		t.Errorf("long-form lengths: %d secrets", len(r.secrets))
	}
	// An anonymous bind is not a credential.
	anon, _ := hex.DecodeString("300c020101600702010304008000")
	if r := runAs(LDAP, conv{c2s(string(anon))}, Config{}, nil); len(r.secrets) != 0 {
		t.Errorf("anonymous bind reported: %+v", r.secrets)
	}
	// StartTLS.
	req, _ := hex.DecodeString(ldapStartTLSReq)
	ok, _ := hex.DecodeString(ldapStartTLSOK)
	if r := runAs(LDAP, conv{c2s(string(req)), s2c(string(ok)), c2s("\x16\x03\x01")}, Config{}, nil); r.startTLS != 1 {
		t.Errorf("StartTLS at %d, want 1", r.startTLS)
	}
}

// TestAmbiguousGreeting: a bare "220" greeting sniffed as FTP turns out to
// be SMTP when the client says EHLO.
func TestAmbiguousGreeting(t *testing.T) {
	greet := "220 mx.example.com\r\n"
	p := Sniff([]byte(greet), s2c("").dir, 10025)
	r := runAs(p, conv{s2c(greet), c2s("EHLO c\r\n"), s2c("250 ok\r\n"), c2s("AUTH PLAIN " + b64("\x00kim\x00AmbiPass1") + "\r\n")}, Config{ShowSecrets: true}, nil)
	if len(r.secrets) != 1 || r.secrets[0].Protocol != "smtp" || r.secrets[0].Value != "AmbiPass1" {
		t.Errorf("secrets %+v", r.secrets)
	}
}
