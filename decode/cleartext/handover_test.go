package cleartext

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/tls"
)

func hx(s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The hand-overs, each by its specification's bytes: which chunk the
// switch comes after (-1: none, the stream stays cleartext), the bytes
// after the switch in that chunk (Rest), the proxy target, the secrets.
func TestHandoverRules(t *testing.T) {
	clientHello := hx("16 0301 0005 01 000001 00") // the start of TLS after the switch
	tests := []struct {
		name   string
		p      Protocol
		cv     conv
		up     int
		rest   int
		target string
		want   []string
	}{
		{"postgres GSSENCRequest refused, then SSLRequest accepted", Postgres, conv{
			c2s(hx("00000008 04d21630")), // GSSENCRequest (PostgreSQL 55.2.11)
			s2c("N"),
			c2s(hx("00000008 04d2162f")), // SSLRequest
			s2c("S"),
		}, 3, 0, "", nil},
		{"postgres SSL refused: the password in the clear", Postgres, conv{
			c2s(hx("00000008 04d2162f")),
			s2c("N"),
			c2s(hx("00000012 00030000") + "user\x00bob\x00\x00"), // StartupMessage
			s2c(hx("52 00000008 00000003")),                      // AuthenticationCleartextPassword
			c2s(hx("70 0000000b") + "hunter2\x00"),
		}, -1, 0, "", []string{"plaintext-credentials/password user=bob value=hunter2"}},
		{"postgres GSS encryption is not TLS", Postgres, conv{
			c2s(hx("00000008 04d21630")), s2c("G"), c2s(clientHello),
		}, -1, 0, "", nil},
		{"mysql SSL request with CLIENT_SSL, ClientHello in the same chunk", MySQL, conv{
			s2c(hx("0a0000 00 0a") + "8.0.36\x00" + hx("01000000")),
			c2s(hx("200000 01 00aa0000 00000001 21") + strings.Repeat("\x00", 23) + clientHello),
		}, 1, len(clientHello), "", nil},
		{"mysql HandshakeResponse without CLIENT_SSL stays clear", MySQL, conv{
			s2c(hx("0a0000 00 0a") + "8.0.36\x00" + hx("01000000")),
			c2s(hx("260000 01 0da20000 00000001 21") + strings.Repeat("\x00", 23) + "root\x00\x00"),
		}, -1, 0, "", nil},
		{"socks5 with RFC 1929 username/password, CONNECT to a name", SOCKS5, conv{
			c2s(hx("05 01 02")),
			s2c(hx("05 02")),
			c2s(hx("01 05") + "alice" + hx("06") + "s3cret"),
			s2c(hx("01 00")),
			c2s(hx("05 01 00 03 0b") + "example.org" + hx("01bb")),
			s2c(hx("05 00 00 01 7f000001 1f90")),
			c2s(clientHello),
		}, 5, 0, "example.org:443", []string{"plaintext-credentials/password user=alice value=s3cret"}},
		{"socks5 refused CONNECT", SOCKS5, conv{
			c2s(hx("05 01 00")), s2c(hx("05 00")),
			c2s(hx("05 01 00 01 c0000201 01bb")),
			s2c(hx("05 05 00 01 00000000 0000")), // connection refused
		}, -1, 0, "", nil},
		{"socks4a CONNECT granted", SOCKS4, conv{
			c2s(hx("04 01 01bb 00000001") + "user\x00" + "example.net\x00"),
			s2c(hx("00 5a 0000 00000000") + clientHello[:3]),
		}, 1, 3, "example.net:443", nil},
		{"xmpp starttls and proceed", XMPP, conv{
			c2s("<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
			s2c("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"),
			c2s("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
			s2c("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
		}, 3, 0, "", nil},
		{"xmpp starttls failure, then SASL PLAIN in the clear", XMPP, conv{
			c2s("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
			s2c("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
			c2s("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>"),
		}, -1, 0, "", []string{"plaintext-credentials/password user=juliet value=r0m30myr0m30"}},
		{"rdp X.224 negotiates PROTOCOL_SSL", RDP, conv{ // MS-RDPBCGR 4.1.1, 4.1.2
			c2s(hx("0300 002a 25 e0 0000 0000 00") + "Cookie: mstshash=eltons\r\n" + hx("01 00 0800 01000000")),
			s2c(hx("0300 0013 0e d0 0000 1234 00 02 00 0800 01000000")),
		}, 1, 0, "", nil},
		{"rdp RDP_NEG_FAILURE stays standard RDP security", RDP, conv{
			c2s(hx("0300 0013 0e e0 0000 0000 00 01 00 0800 03000000")),
			s2c(hx("0300 0013 0e d0 0000 1234 00 03 00 0800 02000000")),
		}, -1, 0, "", nil},
		{"irc STARTTLS 670", IRC, conv{c2s("STARTTLS\r\n"), s2c(":irc.example.net 670 * :STARTTLS successful\r\n")}, 1, 0, "", nil},
		{"irc STARTTLS 691", IRC, conv{c2s("STARTTLS\r\n"), s2c(":irc.example.net 691 * :STARTTLS failed\r\n")}, -1, 0, "", nil},
		{"nntp 580 then AUTHINFO in the clear", NNTP, conv{
			s2c("200 news ready\r\n"), c2s("STARTTLS\r\n"), s2c("580 no TLS\r\n"),
			c2s("AUTHINFO USER carol\r\n"), s2c("381 more\r\n"), c2s("AUTHINFO PASS pw123\r\n"),
		}, -1, 0, "", []string{"plaintext-credentials/password user=carol value=pw123"}},
		{"sieve STARTTLS OK", Sieve, conv{s2c("\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK\r\n"), c2s("STARTTLS\r\n"), s2c("OK\r\n")}, 2, 0, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAs(tt.p, tt.cv, Config{ShowSecrets: true}, nil)
			if r.startTLS != tt.up {
				t.Fatalf("switch after chunk %d, want %d", r.startTLS, tt.up)
			}
			if g := strings.Join(got(r.secrets), "\n"); g != strings.Join(tt.want, "\n") {
				t.Errorf("secrets:\n%s\nwant\n%s", g, strings.Join(tt.want, "\n"))
			}
			if tt.up < 0 {
				return
			}
			// Rest and Target, from a Stream fed up to the switch.
			st := NewStream(tt.p, Config{}, Handler{})
			for i, ch := range tt.cv[:tt.up+1] {
				if st.Feed(ch.dir, ch.data, time.Unix(0, 0)) != (i == tt.up) {
					t.Fatalf("chunk %d: switch %v", i, i != tt.up)
				}
			}
			if st.Rest() != tt.rest || st.Target() != tt.target {
				t.Errorf("Rest %d Target %q, want %d %q", st.Rest(), st.Target(), tt.rest, tt.target)
			}
		})
	}
}

// The sniffers name each hand-over protocol from its first bytes.
func TestSniffHandover(t *testing.T) {
	tests := []struct {
		b    string
		dir  tls.Direction
		port uint16
		want Protocol
	}{
		{hx("00000008 04d2162f"), tls.ClientToServer, 5432, Postgres},
		{hx("00000008 04d21630"), tls.ClientToServer, 15432, Postgres},
		{hx("5b0000 00 0a") + "5.5.5-10.11.6-MariaDB\x00", tls.ServerToClient, 3306, MySQL},
		{hx("05 02 00 02"), tls.ClientToServer, 1080, SOCKS5},
		{hx("04 01 01bb 7f000001") + "\x00", tls.ClientToServer, 1080, SOCKS4},
		{hx("0300 0013 0e e0 0000 0000 00 01 00 0800 03000000"), tls.ClientToServer, 3389, RDP},
		{"<?xml version='1.0'?><stream:stream xmlns='jabber:client'>", tls.ClientToServer, 5222, XMPP},
		{"CAP LS 302\r\n", tls.ClientToServer, 6667, IRC},
		{":irc.example.net NOTICE * :hello\r\n", tls.ServerToClient, 6667, IRC},
		{"200 news.example.net ready\r\n", tls.ServerToClient, 119, NNTP},
		{"\"IMPLEMENTATION\" \"Dovecot\"\r\n", tls.ServerToClient, 4190, Sieve},
		{"EHLO x\r\n", tls.ClientToServer, 25, SMTP},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.b), tt.dir, tt.port); got != tt.want {
			t.Errorf("Sniff(%q) = %q, want %q", tt.b, got, tt.want)
		}
	}
}
