package report

import (
	"bufio"
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// The zeek format writes Zeek's ssl.log and x509.log records as Zeek's
// JSON writer does (LogAscii::use_json: one object per line, the
// dotted field names of the TSV header as keys, times as epoch
// seconds, unset fields left out), both logs in one stream: each record
// carries "_path" ("ssl" or "x509"), as Zeek's JSON log writers to Kafka
// and Security Onion's pipeline tag them, so a shipper routes them on
// that field. Field names and meanings are those of Zeek's
// base/protocols/ssl/main.zeek and base/files/x509/main.zeek; see
// zeek_test.go for the comparison with Zeek's own baselines.
//
// One ssl record per connection on which TLS was seen; each certificate
// once per run, in an x509 record written before the first ssl record
// that names it in cert_chain_fps (Zeek, too, logs a certificate once
// however many connections carry it, within its cache's lifetime).

// zeekSSL is one ssl.log record, in Zeek's column order.
type zeekSSL struct {
	Path           string    `json:"_path"`
	TS             float64   `json:"ts"`
	UID            string    `json:"uid"`
	OrigH          string    `json:"id.orig_h"`
	OrigP          uint16    `json:"id.orig_p"`
	RespH          string    `json:"id.resp_h"`
	RespP          uint16    `json:"id.resp_p"`
	Version        string    `json:"version,omitempty"`
	Cipher         string    `json:"cipher,omitempty"`
	Curve          string    `json:"curve,omitempty"`
	ServerName     string    `json:"server_name,omitempty"`
	Resumed        bool      `json:"resumed"`
	LastAlert      string    `json:"last_alert,omitempty"`
	NextProtocol   string    `json:"next_protocol,omitempty"`
	Established    bool      `json:"established"`
	SSLHistory     string    `json:"ssl_history"`
	CertChainFps   *[]string `json:"cert_chain_fps,omitempty"`
	ClientCertFps  *[]string `json:"client_cert_chain_fps,omitempty"`
	SNIMatchesCert *bool     `json:"sni_matches_cert,omitempty"`
}

// zeekX509 is one x509.log record.
type zeekX509 struct {
	Path             string   `json:"_path"`
	TS               float64  `json:"ts"`
	Fingerprint      string   `json:"fingerprint"`
	Version          int      `json:"certificate.version"`
	Serial           string   `json:"certificate.serial"`
	Subject          string   `json:"certificate.subject"`
	Issuer           string   `json:"certificate.issuer"`
	NotValidBefore   float64  `json:"certificate.not_valid_before"`
	NotValidAfter    float64  `json:"certificate.not_valid_after"`
	KeyAlg           string   `json:"certificate.key_alg,omitempty"`
	SigAlg           string   `json:"certificate.sig_alg,omitempty"`
	KeyType          string   `json:"certificate.key_type,omitempty"`
	KeyLength        int      `json:"certificate.key_length,omitempty"`
	Exponent         string   `json:"certificate.exponent,omitempty"`
	Curve            string   `json:"certificate.curve,omitempty"`
	SANDNS           []string `json:"san.dns,omitempty"`
	SANIP            []string `json:"san.ip,omitempty"`
	BasicConstraints *bool    `json:"basic_constraints.ca,omitempty"`
	PathLen          *int     `json:"basic_constraints.path_len,omitempty"`
	HostCert         bool     `json:"host_cert"`
	ClientCert       bool     `json:"client_cert"`
}

// zeekVersion is Zeek's version_strings (base/protocols/ssl/consts.zeek):
// "TLSv12", "SSLv3", "DTLSv12", "TLSv13-draft23".
func zeekVersion(v uint16) string {
	switch {
	case v == tls.VersionSSL20:
		return "SSLv2"
	case v == tls.VersionSSL30:
		return "SSLv3"
	case v >= tls.VersionTLS10 && v <= tls.VersionTLS13:
		return "TLSv1" + strconv.Itoa(int(v-tls.VersionTLS10))
	case v == tls.VersionDTLS10:
		return "DTLSv10"
	case v == tls.VersionDTLS12:
		return "DTLSv12"
	case v == tls.VersionDTLS13:
		return "DTLSv13"
	case v>>8 == 0x7f:
		return "TLSv13-draft" + strconv.Itoa(int(v&0xff))
	}
	return "unknown-" + strconv.Itoa(int(v))
}

// zeekKeyAlg, zeekSigAlg: OpenSSL's long names, which Zeek prints, for
// the key types and signature algorithms decode names as crypto/x509
// does.
var zeekKeyAlg = map[string][2]string{ // KeyType: key_alg, key_type
	"RSA":     {"rsaEncryption", "rsa"},
	"ECDSA":   {"id-ecPublicKey", "ec"},
	"DSA":     {"dsaEncryption", "dsa"},
	"Ed25519": {"ED25519", ""},
}

var zeekSigAlg = map[string]string{
	"MD2-RSA":       "md2WithRSAEncryption",
	"MD5-RSA":       "md5WithRSAEncryption",
	"SHA1-RSA":      "sha1WithRSAEncryption",
	"SHA256-RSA":    "sha256WithRSAEncryption",
	"SHA384-RSA":    "sha384WithRSAEncryption",
	"SHA512-RSA":    "sha512WithRSAEncryption",
	"SHA256-RSAPSS": "rsassaPss",
	"SHA384-RSAPSS": "rsassaPss",
	"SHA512-RSAPSS": "rsassaPss",
	"DSA-SHA1":      "dsaWithSHA1",
	"DSA-SHA256":    "dsa_with_SHA256",
	"ECDSA-SHA1":    "ecdsa-with-SHA1",
	"ECDSA-SHA256":  "ecdsa-with-SHA256",
	"ECDSA-SHA384":  "ecdsa-with-SHA384",
	"ECDSA-SHA512":  "ecdsa-with-SHA512",
	"Ed25519":       "ED25519",
}

// zeekHistory are ssl_history's letters (main.zeek's table) by handshake
// type; a client's are upper case.
var zeekHistory = map[uint8]byte{
	tls.TypeHelloRequest: 'h', tls.TypeClientHello: 'c', tls.TypeServerHello: 's',
	3: 'v', 4: 't', 5: 'e', 6: 'j', 8: 'o', 11: 'x', 12: 'k', 13: 'r', 14: 'n',
	15: 'y', 16: 'g', 20: 'f', 21: 'w', 22: 'u', 23: 'a', 24: 'p', 254: 'm',
}

// zeekMaxHistory is Zeek's max_ssl_history_length.
const zeekMaxHistory = 100

// zeekMaxCerts caps the certificates a ZeekWriter remembers as written
// (a live capture may run for months): past it the set starts again and
// certificates are logged once more, as Zeek relogs a certificate once
// its cache entry expires.
const zeekMaxCerts = 1 << 16

// ZeekWriter writes the zeek format a connection at a time, keeping the
// set of certificates already written.
type ZeekWriter struct {
	enc  *json.Encoder
	seen map[string]bool
}

// NewZeekWriter starts a zeek stream on w.
func NewZeekWriter(w io.Writer) *ZeekWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &ZeekWriter{enc: enc, seen: map[string]bool{}}
}

// WriteZeek writes every connection of r on which TLS was seen.
func WriteZeek(w io.Writer, r *Result, _ Options) error {
	bw := bufio.NewWriter(w)
	z := NewZeekWriter(bw)
	for _, c := range r.Captures {
		for _, conn := range c.Connections {
			if err := z.Connection(conn); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// Connection writes c's x509 records not written yet, then its ssl
// record; a connection without TLS writes nothing.
func (z *ZeekWriter) Connection(c *facts.Connection) error {
	rec, ok := zeekSSLOf(c)
	if !ok {
		return nil
	}
	for i, chain := range [][]facts.Certificate{c.Certificates, c.ClientCertificates} {
		for j, ci := range chain {
			if z.seen[ci.SHA256] {
				continue
			}
			if len(z.seen) >= zeekMaxCerts { // zeekMaxCerts is enforced here
				clear(z.seen)
			}
			z.seen[ci.SHA256] = true
			x := zeekCert(ci, rec.TS)
			// host_cert: the end-host's certificate, first of its chain;
			// client_cert: sent by the client.
			x.HostCert, x.ClientCert = j == 0, i == 1
			if err := z.enc.Encode(x); err != nil {
				return err
			}
		}
	}
	return z.enc.Encode(rec)
}

// zeekTime is Zeek's JSON time: epoch seconds, microsecond precision.
func zeekTime(t time.Time) float64 {
	return math.Round(float64(t.UnixMicro())) / 1e6
}

// zeekUID is the connection's uid: "C" and base62 of a hash of its
// capture, id, endpoints and first packet time, so the same capture
// always gives the same uids (Zeek's own are random per run).
func zeekUID(c *facts.Connection) string {
	h := fnv.New64a()
	io.WriteString(h, c.Capture)
	io.WriteString(h, "\x00"+strconv.FormatUint(c.ID, 10)+"\x00"+c.Client.String()+"\x00"+c.Server.String()+"\x00"+strconv.FormatInt(c.First.UnixNano(), 10))
	v := h.Sum64()
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte{'C'}
	for range 11 { // 62^11 > 2^64
		b = append(b, digits[v%62])
		v /= 62
	}
	return string(b)
}

// zeekSSLOf is c's ssl.log record; false when no TLS was seen on c.
func zeekSSLOf(c *facts.Connection) (zeekSSL, bool) {
	s := c.TLS
	if s == nil || (s.ClientHello == nil && s.ServerHello == nil) {
		return zeekSSL{}, false
	}
	start := s.Start
	if start.IsZero() {
		start = c.First
	}
	r := zeekSSL{
		Path: "ssl", TS: zeekTime(start), UID: zeekUID(c),
		OrigH: c.Client.Addr().Unmap().String(), OrigP: c.Client.Port(),
		RespH: c.Server.Addr().Unmap().String(), RespP: c.Server.Port(),
		ServerName:   c.SNI(),
		Resumed:      s.Resumed,
		NextProtocol: s.ALPN,
		Established:  s.Established,
		Curve:        negotiatedGroup(s),
	}
	if s.ServerHello != nil && s.Version != 0 {
		r.Version = zeekVersion(s.Version)
		r.Cipher, _ = s.Cipher()
		// Zeek's names for SSL 2.0's kinds (base/protocols/ssl/consts.zeek).
		r.Cipher = strings.Replace(r.Cipher, "SSL_CK_", "SSLv20_CK_", 1)
	}
	for _, a := range s.Alerts {
		if !a.Encrypted {
			r.LastAlert = alertName(a.Description)
		}
	}
	r.SSLHistory = zeekSSLHistory(s)
	// Zeek sets both chains (to empty vectors) at the first certificate
	// of a connection, whichever side sent it.
	if len(c.Certificates)+len(c.ClientCertificates) > 0 {
		server, client := []string{}, []string{}
		for _, ci := range c.Certificates {
			server = append(server, ci.SHA256)
		}
		for _, ci := range c.ClientCertificates {
			client = append(client, ci.SHA256)
		}
		r.CertChainFps, r.ClientCertFps = &server, &client
	}
	if len(c.Certificates) > 0 && r.ServerName != "" {
		m := zeekHostMatches(c.Certificates[0], r.ServerName)
		r.SNIMatchesCert = &m
	}
	return r, true
}

// zeekSSLHistory spells ssl_history from the session's events: a letter
// per handshake message seen in the clear, i for change_cipher_spec, l
// for a plaintext alert; a client's in upper case. The HelloRetryRequest
// (a ServerHello on the wire) is j. Zeek keeps up to 100 letters; the
// session keeps tls.MaxEvents events (anomaly tls_events_limit past
// them), so a longer history is cut there. Zeek's ^ (direction flipped)
// and b (heartbeat) are not produced: decode orients every connection
// from its ClientHello and does not record heartbeats as events.
func zeekSSLHistory(s *tls.Session) string {
	var b []byte
	hrrPending := s.HelloRetry != nil
	for _, e := range s.Events {
		var ch byte
		switch {
		case e.Encrypted:
			continue
		case e.Content == tls.ContentHandshake:
			ch = zeekHistory[e.Handshake]
			if ch == 0 {
				ch = 'z'
			}
			if e.Handshake == tls.TypeServerHello && hrrPending {
				ch, hrrPending = 'j', false
			}
		case e.Content == tls.ContentChangeCipherSpec:
			ch = 'i'
		case e.Content == tls.ContentAlert:
			ch = 'l'
		default:
			continue
		}
		if e.From == tls.ClientToServer {
			ch -= 'a' - 'A'
		}
		if len(b) < zeekMaxHistory {
			b = append(b, ch)
		}
	}
	return string(b)
}

// zeekHostMatches is sni_matches_cert: host against the leaf's DNS
// names (a leftmost "*" label matching one label), or its common name
// when it has none, as Zeek's x509_check_cert_hostname does.
func zeekHostMatches(leaf facts.Certificate, host string) bool {
	names := leaf.DNSNames
	if len(names) == 0 && leaf.SubjectCN != "" {
		names = []string{leaf.SubjectCN}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, n := range names {
		n = strings.ToLower(n)
		if n == host {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if _, after, found := strings.Cut(host, "."); found && after == rest {
				return true
			}
		}
	}
	return false
}

func zeekCert(ci facts.Certificate, ts float64) zeekX509 {
	x := zeekX509{
		Path: "x509", TS: ts, Fingerprint: ci.SHA256,
		Version: ci.Version, Serial: zeekSerial(ci.Serial), Subject: zeekName(ci.Subject), Issuer: zeekName(ci.Issuer),
		NotValidBefore: zeekTime(ci.NotBefore), NotValidAfter: zeekTime(ci.NotAfter),
		SigAlg: zeekSigAlg[ci.Signature], KeyLength: ci.KeyBits,
		Curve: curveNames[ci.Curve].openssl,
	}
	if k, ok := zeekKeyAlg[ci.KeyType]; ok {
		x.KeyAlg, x.KeyType = k[0], k[1]
	}
	if ci.Exponent > 0 {
		x.Exponent = strconv.Itoa(ci.Exponent)
	}
	x.SANDNS = ci.DNSNames
	for _, ip := range ci.IPs {
		x.SANIP = append(x.SANIP, ip.String())
	}
	if ci.BasicConstraints {
		ca := ci.IsCA
		x.BasicConstraints = &ca
		if ci.MaxPathLen >= 0 {
			n := ci.MaxPathLen
			x.PathLen = &n
		}
	}
	return x
}

// zeekSerial prints a serial as Zeek does, the hex of the integer's
// bytes: an odd number of digits gets a leading 0 ("01", "023A69").
func zeekSerial(hex string) string {
	if len(hex)%2 == 1 {
		return "0" + hex
	}
	return hex
}

// zeekAttrNames are OpenSSL's short names, which Zeek prints, for the
// attribute types decode/certs prints as RFC 4514 does (keywords only for
// the RFC's own, dotted OIDs for the rest).
var zeekAttrNames = map[string]string{
	"STREET":                     "street",
	"2.5.4.17":                   "postalCode",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.4":                    "SN",
	"2.5.4.42":                   "GN",
	"2.5.4.12":                   "title",
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.43":                   "initials",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
}

// zeekName renames the attribute types of an RFC 4514 name to OpenSSL's
// short names, leaving values (and their escapes) as they are.
func zeekName(dn string) string {
	var b strings.Builder
	typeStart := true
	for i := 0; i < len(dn); i++ {
		if typeStart {
			end := strings.IndexByte(dn[i:], '=')
			if end < 0 {
				b.WriteString(dn[i:])
				break
			}
			t := dn[i : i+end]
			if n, ok := zeekAttrNames[t]; ok {
				t = n
			}
			b.WriteString(t)
			b.WriteByte('=')
			i += end
			typeStart = false
			continue
		}
		switch dn[i] {
		case '\\':
			b.WriteByte(dn[i])
			if i+1 < len(dn) {
				i++
				b.WriteByte(dn[i])
			}
			continue
		case ',', '+':
			typeStart = true
		}
		b.WriteByte(dn[i])
	}
	return b.String()
}
