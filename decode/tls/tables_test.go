package tls

import (
	"bufio"
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

var (
	tsharkOnce sync.Once
	tsharkOut  []byte
	tsharkErr  error
)

// tsharkValues reads `tshark -G values` and returns the value strings of
// one field, keyed by value.
func tsharkValues(t *testing.T, field string) map[uint64]string {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	tsharkOnce.Do(func() {
		tsharkOut, tsharkErr = exec.Command(tshark, "-G", "values").Output()
	})
	out, err := tsharkOut, tsharkErr
	if err != nil {
		t.Fatalf("tshark -G values: %v", err)
	}
	vals := make(map[uint64]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 || f[0] != "V" || f[1] != field {
			continue
		}
		v, err := strconv.ParseUint(f[2], 0, 32)
		if err != nil {
			continue
		}
		if _, dup := vals[v]; !dup { // tshark lists some fields twice (SSLv2 and TLS)
			vals[v] = f[3]
		}
	}
	if len(vals) == 0 {
		t.Fatalf("tshark -G values has no %s", field)
	}
	return vals
}

// Names where Wireshark 4.0 differs from the IANA registry on purpose or
// by age. Each entry says why; anything else must match.
// (Wireshark 4.0.17 agrees with every IANA name it has, so it is empty.)
var tsharkSuiteNameExceptions = map[uint16]string{}

func TestCipherSuiteNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.ciphersuite")
	compared := 0
	for _, s := range cipherSuites {
		want, ok := ts[uint64(s.ID)]
		if !ok {
			continue // tshark lacks it
		}
		if _, skip := tsharkSuiteNameExceptions[s.ID]; skip {
			continue
		}
		compared++
		if s.Name != want {
			t.Errorf("0x%04x: we say %s, tshark says %s", s.ID, s.Name, want)
		}
	}
	if compared < 300 {
		t.Errorf("only %d suites compared with tshark", compared)
	}
}

// openssl's Kx/Au/Mac columns, as our parts would read in its vocabulary.
var opensslKx = map[string]string{
	"RSA": "RSA", "DHE": "DH", "ECDHE": "ECDH", "PSK": "PSK", "DHE_PSK": "DHEPSK",
	"RSA_PSK": "RSAPSK", "ECDHE_PSK": "ECDHEPSK", "SRP": "SRP", "ANY": "any", "DH": "DH", "ECDH": "ECDH",
}
var opensslAu = map[string]string{
	"RSA": "RSA", "DSS": "DSS", "ECDSA": "ECDSA", "anon": "None", "PSK": "PSK", "SRP": "SRP", "ANY": "any",
}
var opensslMac = map[string]string{"SHA": "SHA1", "SHA256": "SHA256", "SHA384": "SHA384", "MD5": "MD5", "AEAD": "AEAD"}

func TestCipherSuitesMatchOpenSSL(t *testing.T) {
	openssl := testutil.Tool(t, "openssl")
	out, err := exec.Command(openssl, "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatalf("openssl ciphers: %v", err)
	}
	compared := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// 0xC0,0x2C - TLS_ECDHE_... - ECDHE-ECDSA-... TLSv1.2 Kx=ECDH Au=ECDSA Enc=... Mac=AEAD
		if len(f) < 9 || f[1] != "-" {
			continue
		}
		hi, err1 := strconv.ParseUint(f[0][2:4], 16, 8)
		lo, err2 := strconv.ParseUint(f[0][7:9], 16, 8)
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot read %q", line)
		}
		id := uint16(hi)<<8 | uint16(lo)
		attrs := map[string]string{}
		for _, a := range f[5:] {
			if k, v, ok := strings.Cut(a, "="); ok {
				attrs[k] = v
			}
		}
		s, ok := LookupCipherSuite(id)
		if !ok {
			t.Errorf("0x%04x %s: not in our table", id, f[2])
			continue
		}
		compared++
		if s.Name != f[2] {
			t.Errorf("0x%04x: name %s, openssl says %s", id, s.Name, f[2])
		}
		if got := opensslKx[s.KeyExchange]; got != attrs["Kx"] {
			t.Errorf("0x%04x %s: key exchange %s, openssl says Kx=%s", id, s.Name, s.KeyExchange, attrs["Kx"])
		}
		if got := opensslAu[s.Auth]; got != attrs["Au"] {
			t.Errorf("0x%04x %s: auth %s, openssl says Au=%s", id, s.Name, s.Auth, attrs["Au"])
		}
		if got := opensslMac[s.MAC]; got != attrs["Mac"] {
			t.Errorf("0x%04x %s: MAC %s, openssl says Mac=%s", id, s.Name, s.MAC, attrs["Mac"])
		}
		if s.TLS13 != (f[5] == "TLSv1.3") {
			t.Errorf("0x%04x %s: TLS13 %v, openssl says %s", id, s.Name, s.TLS13, f[5])
		}
	}
	if compared < 100 {
		t.Errorf("only %d suites compared with openssl", compared)
	}
}

func TestLookupCipherSuiteByID(t *testing.T) {
	tests := []struct {
		id   uint16
		want CipherSuite
	}{
		{0x0003, CipherSuite{ID: 0x0003, Name: "TLS_RSA_EXPORT_WITH_RC4_40_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC4_40", Mode: "STREAM", MAC: "MD5", Export: true}},
		{0x1301, CipherSuite{ID: 0x1301, Name: "TLS_AES_128_GCM_SHA256", KeyExchange: "ANY", Auth: "ANY", Cipher: "AES_128", Mode: "GCM", MAC: "AEAD", TLS13: true}},
		{0xc02f, CipherSuite{ID: 0xc02f, Name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KeyExchange: "ECDHE", Auth: "RSA", Cipher: "AES_128", Mode: "GCM", MAC: "AEAD"}},
		{0x000a, CipherSuite{ID: 0x000a, Name: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", KeyExchange: "RSA", Auth: "RSA", Cipher: "3DES_EDE", Mode: "CBC", MAC: "SHA"}},
		{0x0018, CipherSuite{ID: 0x0018, Name: "TLS_DH_anon_WITH_RC4_128_MD5", KeyExchange: "DH", Auth: "anon", Cipher: "RC4_128", Mode: "STREAM", MAC: "MD5"}},
		{0x00ff, CipherSuite{ID: 0x00ff, Name: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", KeyExchange: "NULL", Auth: "NULL", Cipher: "NULL", Mode: "NULL", MAC: "NULL", Scsv: true}},
		{0x5600, CipherSuite{ID: 0x5600, Name: "TLS_FALLBACK_SCSV", KeyExchange: "NULL", Auth: "NULL", Cipher: "NULL", Mode: "NULL", MAC: "NULL", Scsv: true}},
		{0x0002, CipherSuite{ID: 0x0002, Name: "TLS_RSA_WITH_NULL_SHA", KeyExchange: "RSA", Auth: "RSA", Cipher: "NULL", Mode: "NULL", MAC: "SHA"}},
		{0xcca8, CipherSuite{ID: 0xcca8, Name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", KeyExchange: "ECDHE", Auth: "RSA", Cipher: "CHACHA20", Mode: "POLY1305", MAC: "AEAD"}},
		{0xc0a0, CipherSuite{ID: 0xc0a0, Name: "TLS_RSA_WITH_AES_128_CCM_8", KeyExchange: "RSA", Auth: "RSA", Cipher: "AES_128", Mode: "CCM_8", MAC: "AEAD"}},
	}
	for _, tt := range tests {
		got, ok := LookupCipherSuite(tt.id)
		if !ok || got != tt.want {
			t.Errorf("LookupCipherSuite(0x%04x) = %+v, %v; want %+v", tt.id, got, ok, tt.want)
		}
	}
	for _, id := range []uint16{0x0a0a, 0xfafa, 0x001c, 0xffff} {
		if s, ok := LookupCipherSuite(id); ok {
			t.Errorf("LookupCipherSuite(0x%04x) found %s", id, s.Name)
		}
		if got := CipherSuiteName(id); got != hex16(id) {
			t.Errorf("CipherSuiteName(0x%04x) = %q", id, got)
		}
	}
}

func TestCipherSuiteTableSortedAndUnique(t *testing.T) {
	for i := 1; i < len(cipherSuites); i++ {
		if cipherSuites[i-1].ID >= cipherSuites[i].ID {
			t.Fatalf("table not sorted at 0x%04x", cipherSuites[i].ID)
		}
	}
}

// snake turns tshark's "Unknown CA" into "unknown_ca".
func snake(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), " ", "_")
}

func TestAlertNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.alert_message.desc")
	for v, name := range ts {
		if got := AlertName(uint8(v)); got != snake(name) {
			t.Errorf("alert %d: we say %s, tshark says %s", v, got, name)
		}
	}
	if AlertName(40) != "handshake_failure" || AlertName(200) != "0xc8" {
		t.Errorf("AlertName(40)=%s AlertName(200)=%s", AlertName(40), AlertName(200))
	}
}

// Extension names where Wireshark 4.0 differs from the IANA registry.
var tsharkExtensionExceptions = map[uint16]string{
	34:    "IANA: delegated_credential (RFC 9345); Wireshark: delegated_credentials",
	40:    "IANA: reserved (was key_share in drafts); Wireshark: Reserved (key_share)",
	46:    "IANA: reserved (ticket_early_data_info in drafts)",
	53:    "IANA: connection_id_deprecated; Wireshark: connection_id (deprecated)",
	65445: "not IANA; we call it quic_transport_parameters_draft, Wireshark adds (drafts version)",
}

func TestExtensionNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.extension.type")
	for v, name := range ts {
		if _, skip := tsharkExtensionExceptions[uint16(v)]; skip {
			continue
		}
		want := name
		if name == "Reserved (GREASE)" {
			want = "GREASE"
		}
		if got := ExtensionName(uint16(v)); got != want {
			t.Errorf("extension %d: we say %s, tshark says %s", v, got, name)
		}
	}
}

func TestHandshakeTypeNames(t *testing.T) {
	// tshark's value strings for tls.handshake.type mix SSLv2 and TLS
	// message types under the same numbers, so these are its TLS names.
	tests := map[uint8]string{1: "Client Hello", 2: "Server Hello", 4: "New Session Ticket", 11: "Certificate",
		12: "Server Key Exchange", 13: "Certificate Request", 14: "Server Hello Done", 15: "Certificate Verify",
		16: "Client Key Exchange", 20: "Finished", 22: "Certificate Status", 24: "Key Update", 25: "Compressed Certificate"}
	for v, name := range tests {
		if got := HandshakeTypeName(v); got != snake(name) {
			t.Errorf("handshake type %d: we say %s, want %s", v, got, snake(name))
		}
	}
}

func TestGroupNames(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.extensions_supported_group")
	// Wireshark 4.0 predates ML-KEM and names 0x0200-0x0202 after OQS
	// experiments; compare the classic curves and FFDHE groups only.
	for v, name := range ts {
		if v >= 0x200 && v < 0x3000 {
			continue
		}
		want := name
		if name == "Reserved (GREASE)" {
			want = "GREASE"
		}
		if got := GroupName(uint16(v)); got != want {
			t.Errorf("group 0x%04x: we say %s, tshark says %s", v, got, name)
		}
	}
	for g, want := range map[uint16]string{0x11ec: "X25519MLKEM768", 0x6399: "X25519Kyber768Draft00", 0x001d: "x25519", 0x2a2a: "GREASE"} {
		if got := GroupName(g); got != want {
			t.Errorf("GroupName(0x%04x) = %s, want %s", g, got, want)
		}
	}
}

func TestSignatureSchemeNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.sig_hash_alg")
	for v, name := range ts {
		if v >= 0xfe00 { // OQS experimental code points, not IANA
			continue
		}
		if got := SignatureSchemeName(uint16(v)); got != name {
			t.Errorf("signature scheme 0x%04x: we say %s, tshark says %s", v, got, name)
		}
	}
}

func TestVersionNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.version")
	for v, name := range ts {
		if strings.Contains(name, "GREASE") || strings.Contains(name, "Facebook") || name == "GMTLS" {
			continue
		}
		if got := VersionName(uint16(v)); got != name {
			t.Errorf("version 0x%04x: we say %s, tshark says %s", v, got, name)
		}
	}
}

func TestIsGREASE(t *testing.T) {
	// RFC 8701, 2: the sixteen reserved values.
	rfc := map[uint16]bool{0x0A0A: true, 0x1A1A: true, 0x2A2A: true, 0x3A3A: true, 0x4A4A: true, 0x5A5A: true,
		0x6A6A: true, 0x7A7A: true, 0x8A8A: true, 0x9A9A: true, 0xAAAA: true, 0xBABA: true, 0xCACA: true,
		0xDADA: true, 0xEAEA: true, 0xFAFA: true}
	for v := 0; v < 0x10000; v++ {
		if IsGREASE(uint16(v)) != rfc[uint16(v)] {
			t.Errorf("IsGREASE(0x%04x) = %v", v, IsGREASE(uint16(v)))
		}
	}
}

func TestSSLv2CipherKindNamesMatchTshark(t *testing.T) {
	ts := tsharkValues(t, "tls.handshake.cipherspec")
	n := 0
	for k := range sslv2CipherKinds {
		name, ok := ts[uint64(k)]
		if !ok {
			continue
		}
		n++
		// tshark: SSL2_RC4_128_WITH_MD5; the SSLv2 draft: SSL_CK_RC4_128_WITH_MD5.
		if want := "SSL_CK_" + strings.TrimPrefix(name, "SSL2_"); SSLv2CipherKindName(k) != want {
			t.Errorf("SSLv2 kind 0x%06x: we say %s, tshark says %s", k, SSLv2CipherKindName(k), name)
		}
	}
	if n != len(sslv2CipherKinds) {
		t.Errorf("tshark knows %d of our %d SSLv2 kinds", n, len(sslv2CipherKinds))
	}
}
