package tls

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// unhex turns a labelled fixture (hex with spaces) into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// clientHelloFixture is a TLS 1.3 ClientHello body with one of each
// extension the parser reads. Lengths were checked by hand against
// RFC 8446, 4.1.2 and the extension RFCs cited in the parser.
const clientHelloFixture = "0303" + // legacy_version
	"0000000000000000000000000000000000000000000000000000000000000000" + // random
	"20" + "abababababababababababababababababababababababababababababababab" + // legacy_session_id
	"0006" + "1301 c02f 0a0a" + // cipher_suites (GREASE kept)
	"01" + "00" + // legacy_compression_methods
	"00b9" + // extensions
	"0000 0010 000e 00 000b 6578616d706c652e636f6d" + // server_name: example.com
	"0005 0005 0100000000" + // status_request
	"000a 000a 0008 2a2a 11ec 001d 0017" + // supported_groups
	"000b 0002 01 00" + // ec_point_formats
	"000d 0006 0004 0403 0804" + // signature_algorithms
	"000f 0001 01" + // heartbeat: peer_allowed_to_send
	"0010 000e 000c 02 6832 08 687474702f312e31" + // ALPN: h2, http/1.1
	"0017 0000" + // extended_master_secret
	"0023 0003 aabbcc" + // session_ticket (3-byte ticket)
	"002a 0000" + // early_data
	"002b 0005 04 0304 0303" + // supported_versions
	"002d 0002 01 01" + // psk_key_exchange_modes: psk_dhe_ke
	"0033 0026 0024 001d 0020 1111111111111111111111111111111111111111111111111111111111111111" + // key_share: x25519
	"fe0d 0004 00000000" + // encrypted_client_hello
	"ff01 0001 00" + // renegotiation_info
	"0029 000e 0007 0001 ee 00000000 0003 02 ffff" // pre_shared_key: identities, binders

// clientHelloFixedEnd is where the fixture's extensions start: a hello cut
// there is a valid hello without extensions.
const clientHelloFixedEnd = 2 + 32 + 33 + 8 + 2

func TestParseClientHelloFixture(t *testing.T) {
	ch, err := ParseClientHello(unhex(t, clientHelloFixture))
	if err != nil {
		t.Fatal(err)
	}
	want := &ClientHello{
		LegacyVersion:       0x0303,
		Random:              make([]byte, 32),
		SessionID:           unhex(t, strings.Repeat("ab", 32)),
		CipherSuites:        []uint16{0x1301, 0xc02f, 0x0a0a},
		CompressionMethods:  []uint8{0},
		Extensions:          []uint16{0, 5, 10, 11, 13, 15, 16, 23, 35, 42, 43, 45, 51, 0xfe0d, 0xff01, 41},
		ServerName:          "example.com",
		ALPNProtocols:       []string{"h2", "http/1.1"},
		SupportedVersions:   []uint16{0x0304, 0x0303},
		SupportedGroups:     []uint16{0x2a2a, 0x11ec, 0x001d, 0x0017},
		ECPointFormats:      []uint8{0},
		SignatureAlgorithms: []uint16{0x0403, 0x0804},
		KeyShareGroups:      []uint16{0x001d},
		PSKModes:            []uint8{1},
		PreSharedKey:        true,
		EarlyData:           true,
		RenegotiationInfo:   true,
		SessionTicket:       true,
		SessionTicketLen:    3,
		StatusRequest:       true,
		EncryptedHello:      true,
		Heartbeat:           true,
		ExtendedMaster:      true,
	}
	if diff := diffStruct(ch, want); diff != "" {
		t.Error(diff)
	}
}

// diffStruct compares two values field by field through their %+v form,
// enough for the plain data structs of this package.
func diffStruct(got, want any) string {
	g, w := sprint(got), sprint(want)
	if g != w {
		return "got  " + g + "\nwant " + w
	}
	return ""
}

func TestClientHelloTruncatedPrefixesFail(t *testing.T) {
	body := unhex(t, clientHelloFixture)
	for i := 0; i < len(body); i++ {
		ch, err := ParseClientHello(body[:i])
		if i == clientHelloFixedEnd {
			if err != nil || ch == nil {
				t.Errorf("prefix %d (no extensions) should parse: %v", i, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("prefix %d of %d parsed without error", i, len(body))
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Msg != "ClientHello" || pe.Offset < 0 || pe.Offset > i {
			t.Errorf("prefix %d: error %v is not a ParseError within the input", i, err)
		}
	}
}

func TestClientHelloBadExtensionKeepsTheRest(t *testing.T) {
	// key_share with one stray byte left inside it (RFC 8446, 4.2.8).
	body := "0303" + strings.Repeat("00", 32) + "00" + "0002 1301" + "01 00" +
		"001f" + // extensions
		"0000 0010 000e 00 000b 6578616d706c652e636f6d" + // server_name
		"0033 0007 0004 001d 0000 ff" // key_share: 1 byte left over
	ch, err := ParseClientHello(unhex(t, body))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "extension key_share" || pe.Offset != 63 {
		t.Fatalf("error %v, want a ParseError naming key_share at offset 63 (2+32+1+4+2+2 + server_name's 20)", err)
	}
	if ch == nil || ch.ServerName != "example.com" || !slices.Equal(ch.Extensions, []uint16{0, 51}) {
		t.Errorf("the rest of the hello was not kept: %+v", ch)
	}
}

const serverHello12Fixture = "0303" + // legacy_version
	"5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f" + // random
	"20" + "abababababababababababababababababababababababababababababababab" + // session_id
	"c02f" + // cipher_suite
	"00" + // compression_method
	"001c" + // extensions
	"0010 0005 0003 02 6832" + // ALPN: h2
	"ff01 0001 00" + // renegotiation_info
	"0017 0000" + // extended_master_secret
	"0023 0000" + // session_ticket
	"000b 0002 01 00" // ec_point_formats

const serverHello13Fixture = "0303" +
	"5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f" +
	"20" + "abababababababababababababababababababababababababababababababab" +
	"1302" + "00" +
	"0034" +
	"002b 0002 0304" + // supported_versions: TLS 1.3
	"0033 0024 001d 0020 2222222222222222222222222222222222222222222222222222222222222222" + // key_share
	"0029 0002 0000" // pre_shared_key: identity 0

const helloRetryFixture = "0303" +
	"cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c" + // SHA-256("HelloRetryRequest")
	"20" + "abababababababababababababababababababababababababababababababab" +
	"1301" + "00" +
	"0016" +
	"002b 0002 0304" + // supported_versions
	"0033 0002 0017" + // key_share: selected_group secp256r1
	"002c 0006 0004 deadbeef" // cookie

func TestParseServerHelloFixtures(t *testing.T) {
	tests := []struct {
		name string
		body string
		want ServerHello
	}{
		{"TLS 1.2 with ALPN and ticket", serverHello12Fixture, ServerHello{
			LegacyVersion: 0x0303, CipherSuite: 0xc02f, Extensions: []uint16{16, 0xff01, 23, 35, 11},
			ALPNProtocol: "h2", RenegotiationInfo: true, ExtendedMaster: true, SessionTicket: true}},
		{"TLS 1.3 with PSK", serverHello13Fixture, ServerHello{
			LegacyVersion: 0x0303, CipherSuite: 0x1302, Extensions: []uint16{43, 51, 41},
			SupportedVersion: 0x0304, KeyShareGroup: 0x001d, PreSharedKey: true}},
		{"HelloRetryRequest", helloRetryFixture, ServerHello{
			LegacyVersion: 0x0303, CipherSuite: 0x1301, Extensions: []uint16{43, 51, 44},
			SupportedVersion: 0x0304, KeyShareGroup: 0x0017, HelloRetryRequest: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := unhex(t, tt.body)
			sh, err := ParseServerHello(body)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Random = body[2:34]
			tt.want.SessionID = body[35:67]
			if d := diffStruct(sh, &tt.want); d != "" {
				t.Error(d)
			}
			for i := 0; i < len(body); i++ {
				if i == 2+32+33+3 {
					continue // a ServerHello without extensions is valid
				}
				if _, err := ParseServerHello(body[:i]); err == nil {
					t.Errorf("prefix %d of %d parsed without error", i, len(body))
				}
			}
		})
	}
}

// testCertificate makes a small self-signed certificate.
func testCertificate(t testing.TB, serial int64) []byte {
	t.Helper()
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "fixture.example"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(zeroReader{}, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func u24(n int) []byte { return []byte{byte(n >> 16), byte(n >> 8), byte(n)} }

// certificateBody builds a TLS 1.2 Certificate body from DER entries.
func certificateBody(ders ...[]byte) []byte {
	var list []byte
	for _, d := range ders {
		list = append(append(list, u24(len(d))...), d...)
	}
	return append(u24(len(list)), list...)
}

func TestParseCertificateChain(t *testing.T) {
	good := testCertificate(t, 0x1234)
	body := certificateBody(good, []byte{1, 2, 3}, testCertificate(t, 7))
	chain, err := ParseCertificate(body, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(chain.Certificates) != 2 || chain.Errors != 1 || chain.Dropped != 0 {
		t.Fatalf("chain %d certs, %d errors, %d dropped", len(chain.Certificates), chain.Errors, chain.Dropped)
	}
	if chain.Certificates[0].SerialNumber.Int64() != 0x1234 || chain.Certificates[0].Subject.CommonName != "fixture.example" {
		t.Errorf("first certificate %v", chain.Certificates[0].Subject)
	}
	// Limits: two certificates at most, and none over 100 bytes.
	chain, _ = ParseCertificate(body, Limits{MaxChain: 2})
	if len(chain.Certificates) != 1 || chain.Errors != 1 || chain.Dropped != 1 {
		t.Errorf("MaxChain 2: %d certs, %d errors, %d dropped", len(chain.Certificates), chain.Errors, chain.Dropped)
	}
	chain, _ = ParseCertificate(body, Limits{MaxCertificate: 100})
	if len(chain.Certificates) != 0 || chain.Dropped != 2 {
		t.Errorf("MaxCertificate 100: %d certs, %d dropped", len(chain.Certificates), chain.Dropped)
	}
	for i := 0; i < len(body); i++ {
		if _, err := ParseCertificate(body[:i], Limits{}); err == nil {
			t.Errorf("prefix %d of %d parsed without error", i, len(body))
		}
	}
}

func TestParseServerKeyExchange(t *testing.T) {
	p1024 := "0080" + "ff" + strings.Repeat("01", 127)
	ys1023 := "0080" + "7f" + strings.Repeat("01", 127)
	tests := []struct {
		name    string
		suite   uint16
		version uint16
		body    string
		want    KeyExchange
	}{
		{"ECDHE x25519 TLS 1.2", 0xc02f, VersionTLS12,
			"03 001d" + // named_curve x25519
				"20" + strings.Repeat("33", 32) + // public
				"0804" + // rsa_pss_rsae_sha256
				"0004 01020304", // signature
			KeyExchange{Kind: "ECDHE", NamedGroup: 29, PublicKeyBits: 256, SignatureAlgorithm: 0x0804}},
		{"DHE 1024 TLS 1.0", 0x0039, VersionTLS10,
			p1024 + "0001 02" + ys1023 + // dh_p, dh_g, dh_Ys
				"0004 01020304", // signature, no algorithm before TLS 1.2
			KeyExchange{Kind: "DHE", DHPrimeBits: 1024, PublicKeyBits: 1023}},
		{"DH_anon has no signature", 0x0034, VersionTLS12,
			p1024 + "0001 02" + ys1023,
			KeyExchange{Kind: "DHE", DHPrimeBits: 1024, PublicKeyBits: 1023}},
		{"ECDHE_PSK with hint", 0xc035, VersionTLS12,
			"0003 616263" + // psk_identity_hint
				"03 0017" + "41" + "04" + strings.Repeat("44", 64),
			KeyExchange{Kind: "ECDHE", NamedGroup: 23, PublicKeyBits: 520}},
		{"RSA export 512", 0x0003, VersionTLS10,
			"0040" + "c1" + strings.Repeat("00", 63) + // rsa_modulus
				"0003 010001" + // rsa_exponent
				"0004 01020304",
			KeyExchange{Kind: "RSA", PublicKeyBits: 512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			suite, ok := LookupCipherSuite(tt.suite)
			if !ok {
				t.Fatalf("suite 0x%04x unknown", tt.suite)
			}
			body := unhex(t, tt.body)
			kx, err := ParseServerKeyExchange(body, suite, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if *kx != tt.want {
				t.Errorf("got %+v, want %+v", *kx, tt.want)
			}
			for i := 0; i < len(body); i++ {
				if _, err := ParseServerKeyExchange(body[:i], suite, tt.version); err == nil {
					t.Errorf("prefix %d of %d parsed without error", i, len(body))
				}
			}
		})
	}
}

func TestParseSSLv2ClientHello(t *testing.T) {
	msg := "01" + // msg_type CLIENT-HELLO
		"0301" + // version: TLS 1.0
		"0009" + "0000" + "0010" + // cipher_spec_length, session_id_length, challenge_length
		"010080 000035 00000a" + // SSL_CK_RC4_128_WITH_MD5, TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA
		"000102030405060708090a0b0c0d0e0f" // challenge
	body := unhex(t, msg)
	ch, err := ParseSSLv2ClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.SSLv2 || ch.LegacyVersion != 0x0301 || !slices.Equal(ch.CipherSuites, []uint16{0x35, 0x0a}) ||
		ch.SSLv2OnlyKinds != 1 || !slices.Equal(ch.SSLv2CipherKinds, []uint32{0x010080, 0x35, 0x0a}) {
		t.Errorf("got %+v", ch)
	}
	// RFC 5246, E.2: the challenge, right-aligned, is the random.
	if hex.EncodeToString(ch.Random) != strings.Repeat("00", 16)+"000102030405060708090a0b0c0d0e0f" {
		t.Errorf("random %x", ch.Random)
	}
	for i := 0; i < len(body); i++ {
		if _, err := ParseSSLv2ClientHello(body[:i]); err == nil {
			t.Errorf("prefix %d parsed", i)
		}
	}
}

func sprint(v any) string { return fmt.Sprintf("%+v", v) }
