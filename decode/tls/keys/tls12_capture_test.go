package keys_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/decode/tls/keys"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// This file reads real TLS 1.0-1.2 connections out of captures (a small
// TCP reassembler and record reader of its own, so that the test does not
// lean on the code it checks), opens every protected record of both
// directions with the key log's master secret, and compares the
// application data with tshark's decryption of the same capture
// (tshark -r F -o tls.keylog_file:K -q -z follow,tls,raw,N).

// record12 is one TLS record as on the wire.
type record12 struct {
	typ     uint8
	version uint16
	body    []byte
}

// conn12 is one TCP connection's TLS records, by direction.
type conn12 struct {
	client, server string // "addr:port"
	order          int    // first packet's position, as tshark numbers tcp.stream
	recs           [2][]record12
}

// tcpDir is one direction's in-order bytes.
type tcpDir struct {
	started bool
	next    uint32
	data    []byte
	pending map[uint32][]byte
}

func (d *tcpDir) add(seq uint32, syn bool, payload []byte) {
	if syn {
		d.started, d.next = true, seq+1
		return
	}
	if len(payload) == 0 {
		return
	}
	if !d.started {
		d.started, d.next = true, seq
	}
	if d.pending == nil {
		d.pending = map[uint32][]byte{}
	}
	d.pending[seq] = append([]byte(nil), payload...)
	for progress := true; progress; {
		progress = false
		for s, p := range d.pending {
			off := int32(d.next - s)
			if off < 0 {
				continue
			}
			delete(d.pending, s)
			progress = true
			if int(off) < len(p) {
				d.data = append(d.data, p[off:]...)
				d.next += uint32(len(p) - int(off))
			}
		}
	}
}

// readConns reassembles every TCP connection of a capture and splits both
// directions into records. The client is the side that sent the SYN (or,
// without one, the first payload).
func readConns(t testing.TB, path string) []*conn12 {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type half struct {
		c   *conn12
		dir int
	}
	halves := map[string]half{}
	streams := map[*conn12]*[2]tcpDir{}
	var conns []*conn12
	for n := 0; ; n++ {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(p.Data, p.LinkType, gopacket.Default)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || pkt.NetworkLayer() == nil {
			continue
		}
		nf := pkt.NetworkLayer().NetworkFlow()
		src := fmt.Sprintf("%s:%d", nf.Src(), tcp.SrcPort)
		dst := fmt.Sprintf("%s:%d", nf.Dst(), tcp.DstPort)
		h, ok := halves[src+">"+dst]
		if !ok {
			if tcp.RST || (tcp.FIN && len(tcp.Payload) == 0) {
				continue
			}
			c := &conn12{client: src, server: dst, order: n}
			conns = append(conns, c)
			streams[c] = &[2]tcpDir{}
			h = half{c, 0}
			halves[src+">"+dst] = h
			halves[dst+">"+src] = half{c, 1}
		}
		streams[h.c][h.dir].add(tcp.Seq, tcp.SYN, tcp.Payload)
	}
	for _, c := range conns {
		for dir := range 2 {
			s := cryptobyte.String(streams[c][dir].data)
			for !s.Empty() {
				var r record12
				var body cryptobyte.String
				if !s.ReadUint8(&r.typ) || !s.ReadUint16(&r.version) || !s.ReadUint16LengthPrefixed(&body) {
					break // a record cut by the end of the capture
				}
				r.body = body
				c.recs[dir] = append(c.recs[dir], r)
			}
		}
	}
	return conns
}

// hello12 is what the test needs from the hellos: the randoms, and the
// ServerHello's version, suite and encrypt_then_mac extension.
type hello12 struct {
	clientRandom, serverRandom []byte
	version, suite             uint16
	etm, ems                   bool
	ok                         bool
}

const (
	recordChangeCipherSpec  = 20
	recordHandshake         = 22
	recordApplicationData   = 23
	extEncryptThenMAC       = 0x0016 // RFC 7366
	extExtendedMasterSecret = 0x0017 // RFC 7627
)

// hellos reads the ClientHello and ServerHello from the handshake records
// each side sent before its ChangeCipherSpec.
func hellos(c *conn12) hello12 {
	var h hello12
	for dir := range 2 {
		var hs []byte
		for _, r := range c.recs[dir] {
			if r.typ == recordChangeCipherSpec {
				break
			}
			if r.typ == recordHandshake {
				hs = append(hs, r.body...)
			}
		}
		s := cryptobyte.String(hs)
		for !s.Empty() {
			var typ uint8
			var body cryptobyte.String
			if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&body) {
				break
			}
			var version uint16
			var random []byte
			if !body.ReadUint16(&version) || !body.ReadBytes(&random, 32) {
				continue
			}
			switch typ {
			case 1: // client_hello
				h.clientRandom = random
			case 2: // server_hello
				var sid cryptobyte.String
				var comp uint8
				if !body.ReadUint8LengthPrefixed(&sid) || !body.ReadUint16(&h.suite) || !body.ReadUint8(&comp) {
					continue
				}
				h.serverRandom, h.version = random, version
				var exts cryptobyte.String
				if body.ReadUint16LengthPrefixed(&exts) {
					for !exts.Empty() {
						var et uint16
						var ed cryptobyte.String
						if !exts.ReadUint16(&et) || !exts.ReadUint16LengthPrefixed(&ed) {
							break
						}
						h.etm = h.etm || et == extEncryptThenMAC
						h.ems = h.ems || et == extExtendedMasterSecret
					}
				}
			}
		}
	}
	h.ok = h.clientRandom != nil && h.serverRandom != nil
	return h
}

// keyLog reads the CLIENT_RANDOM lines of an NSS key log.
func keyLog(t testing.TB, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 3 && fs[0] == "CLIENT_RANDOM" {
			ms, err := hex.DecodeString(fs[2])
			if err == nil {
				m[strings.ToLower(fs[1])] = ms
			}
		}
	}
	return m
}

// opened is one connection's application data, by direction, as opened by
// package keys, and how many records of each kind were opened.
type opened struct {
	app     [2][]byte
	records int
}

func params(t testing.TB, h hello12, master []byte) keys.Params12 {
	t.Helper()
	cs, ok := tls.LookupCipherSuite(h.suite)
	if !ok {
		t.Fatalf("suite 0x%04x not in decode/tls's table", h.suite)
	}
	return keys.Params12{Version: h.version, Suite: cs.Name, Master: master,
		ClientRandom: h.clientRandom, ServerRandom: h.serverRandom, EncryptThenMAC: h.etm}
}

// openConn opens every record after each side's ChangeCipherSpec. A
// record that fails is an error: on a real capture with the right keys
// every record must open.
func openConn(t *testing.T, c *conn12, p keys.Params12) (opened, error) {
	var o opened
	client, server, err := keys.TLS12(p)
	if err != nil {
		return o, err
	}
	for dir, op := range []keys.Opener{client, server} {
		protected, seq := false, uint64(0)
		var dst []byte
		for i, r := range c.recs[dir] {
			if !protected {
				protected = r.typ == recordChangeCipherSpec
				continue
			}
			typ, pt, err := op.Open(dst[:0], seq, r.typ, r.version, r.body)
			if err != nil {
				return o, fmt.Errorf("direction %d record %d (seq %d, type %d, %d bytes): %w", dir, i, seq, r.typ, len(r.body), err)
			}
			dst = pt
			seq++
			o.records++
			if typ == recordApplicationData {
				o.app[dir] = append(o.app[dir], pt...)
			}
		}
	}
	return o, nil
}

// tsharkFollow is tshark's decrypted application data of each TCP stream:
// the stream's first node (the client's address:port) and both
// directions' bytes, client first.
type followed struct {
	stream int // tcp.stream
	node0  string
	data   [2][]byte
}

func tsharkFollow(t *testing.T, tshark, pcap, keylog string, streams int) []followed {
	t.Helper()
	args := []string{"-r", pcap, "-o", "tls.keylog_file:" + keylog, "-q"}
	for i := range streams {
		args = append(args, "-z", fmt.Sprintf("follow,tls,raw,%d", i))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
	}
	var res []followed
	var cur *followed
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Follow: "):
			res = append(res, followed{})
			cur = &res[len(res)-1]
		case cur == nil, strings.HasPrefix(line, "====="), line == "":
		case strings.HasPrefix(line, "Filter: tcp.stream eq "):
			if _, err := fmt.Sscanf(line, "Filter: tcp.stream eq %d", &cur.stream); err != nil {
				t.Fatalf("tshark follow: %q: %v", line, err)
			}
		case strings.HasPrefix(line, "Node 0: "):
			cur.node0 = strings.TrimPrefix(line, "Node 0: ")
		case strings.HasPrefix(line, "Node 1: "):
		default:
			dir := 0
			if strings.HasPrefix(line, "\t") {
				dir = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("tshark follow line %q: %v", line, err)
			}
			cur.data[dir] = append(cur.data[dir], b...)
		}
	}
	return res
}

// capture12 is one capture to check and what it must hold.
type capture12 struct {
	pcap, keylog string
	suite        string // the suite every TLS 1.2 connection negotiates
	etm          int    // -1: no encrypt_then_mac, 1: negotiated, 0: either
	minRecords   int
}

func repoCaptures(t *testing.T) []capture12 {
	dir := testutil.Pcaps(t)
	c := func(name, suite string, etm int) capture12 {
		return capture12{filepath.Join(dir, name+".pcap"), filepath.Join(dir, name+".keys"), suite, etm, 4}
	}
	return []capture12{
		c("tls12-ecdhe-rsa-openssl", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", -1),
		c("tls12-ecdhe-rsa-curl", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", -1),
		c("tls12-go", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", -1),
		c("cert-good", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", -1),
		c("tls12-ecdhe-ecdsa-openssl", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", -1),
		c("tls12-dhe-rsa-openssl", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", -1),
		c("tls12-chacha20-openssl", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", -1),
		c("tls12-session-id-resumption-openssl", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", -1),
		c("tls12-ticket-resumption-openssl", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", -1),
		c("tls12-rsa-aes128-sha-openssl", "TLS_RSA_WITH_AES_128_CBC_SHA", 1),
		c("tls12-cbc-sha256-openssl", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 1),
		c("tls12-anon-dh-openssl", "TLS_DH_anon_WITH_AES_128_CBC_SHA", 1),
		c("tls11-openssl", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 1),
		c("tls10-openssl", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 1),
		c("tls12-3des-go", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", -1),
		c("tls12-rc4-go", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", -1),
		c("tls12-null-cipher-openssl", "TLS_RSA_WITH_NULL_SHA256", 1),
		c("tls12-aes256-gcm-sha384-openssl", "TLS_RSA_WITH_AES_256_GCM_SHA384", -1),
		c("tls12-aes128-ccm-openssl", "TLS_RSA_WITH_AES_128_CCM", -1),
		c("tls12-aes128-ccm8-openssl", "TLS_RSA_WITH_AES_128_CCM_8", -1),
		c("tls12-cbc-no-etm-openssl", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", -1),
		c("tls10-no-etm-openssl", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", -1),
		c("tls10-rsa-no-ems-openssl", "TLS_RSA_WITH_AES_128_CBC_SHA", -1),
	}
}

func corpusCaptures(t *testing.T) []capture12 {
	dir := testutil.Corpus(t)
	return []capture12{
		{filepath.Join(dir, "zeek/testing/btest/Traces/tls/tls12-decryption.pcap"),
			filepath.Join(dir, "zeek/testing/btest/Traces/tls/tls12-decryption.pcap.keylog"), "", 0, 4},
		{filepath.Join(dir, "ssldump/samples/tls1.2_aes256.pcap"),
			filepath.Join(dir, "ssldump/samples/log.txt"), "", 0, 4},
	}
}

// TestTLS12RecordsMatchTshark opens every protected record of the TLS
// 1.0-1.2 captures and compares the application data, direction by
// direction, with tshark's decryption.
func TestTLS12RecordsMatchTshark(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	caps := repoCaptures(t)
	caps = append(caps, corpusCaptures(t)...)
	compared := testutil.MinCompared(t, 150, "TLS 1.0-1.2 protected records")
	for _, tc := range caps {
		t.Run(strings.TrimSuffix(filepath.Base(tc.pcap), ".pcap"), func(t *testing.T) {
			if _, err := os.Stat(tc.pcap); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			kl := keyLog(t, tc.keylog)
			conns := readConns(t, tc.pcap)
			sort.Slice(conns, func(i, j int) bool { return conns[i].order < conns[j].order })
			follow := tsharkFollow(t, tshark, tc.pcap, tc.keylog, len(conns))
			records, connsOpened := 0, 0
			for i, c := range conns {
				h := hellos(c)
				if !h.ok || h.version > 0x0303 || h.version < 0x0301 {
					continue
				}
				master, ok := kl[hex.EncodeToString(h.clientRandom)]
				if !ok {
					t.Errorf("connection %d: client random %x not in %s", i, h.clientRandom, tc.keylog)
					continue
				}
				p := params(t, h, master)
				if tc.suite != "" && p.Suite != tc.suite {
					t.Errorf("connection %d negotiated %s, the capture is meant to have %s", i, p.Suite, tc.suite)
				}
				if tc.etm != 0 && p.EncryptThenMAC != (tc.etm > 0) {
					t.Errorf("connection %d: encrypt_then_mac %v, want %v", i, p.EncryptThenMAC, tc.etm > 0)
				}
				o, err := openConn(t, c, p)
				if err != nil {
					t.Errorf("connection %d (%s, version 0x%04x, EtM %v): %v", i, p.Suite, p.Version, p.EncryptThenMAC, err)
					continue
				}
				var f *followed
				for j := range follow {
					if follow[j].stream == i && (follow[j].node0 == c.client || follow[j].node0 == c.server) {
						f = &follow[j]
						break
					}
				}
				if f == nil {
					t.Errorf("connection %d (%s): no tshark follow stream", i, c.client)
					continue
				}
				want := f.data
				if f.node0 == c.server {
					want[0], want[1] = want[1], want[0]
				}
				for dir := range 2 {
					if !bytes.Equal(o.app[dir], want[dir]) {
						t.Errorf("connection %d direction %d: %d bytes of application data, tshark %d; first 64 ours %x tshark %x",
							i, dir, len(o.app[dir]), len(want[dir]), head(o.app[dir]), head(want[dir]))
					}
				}
				if len(o.app[0])+len(o.app[1]) == 0 {
					t.Errorf("connection %d: no application data to compare", i)
				}
				records += o.records
				connsOpened++
				testWrongKey(t, c, p)
			}
			if records < tc.minRecords {
				t.Errorf("%d records opened in %d connections, want at least %d", records, connsOpened, tc.minRecords)
			}
			t.Logf("%d connections, %d protected records opened and matched tshark", connsOpened, records)
			compared.Add(records)
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

// testWrongKey: with one bit of the master secret changed, every protected
// record fails with ErrAuth and yields no plaintext.
func testWrongKey(t *testing.T, c *conn12, p keys.Params12) {
	t.Helper()
	p.Master = append([]byte(nil), p.Master...)
	p.Master[0] ^= 0x80
	client, server, err := keys.TLS12(p)
	if err != nil {
		t.Fatal(err)
	}
	for dir, op := range []keys.Opener{client, server} {
		protected, seq := false, uint64(0)
		for i, r := range c.recs[dir] {
			if !protected {
				protected = r.typ == recordChangeCipherSpec
				continue
			}
			_, pt, err := op.Open(nil, seq, r.typ, r.version, r.body)
			if !errors.Is(err, keys.ErrAuth) || pt != nil {
				t.Errorf("wrong key: direction %d record %d: %d bytes, %v; want ErrAuth and nothing", dir, i, len(pt), err)
			}
			seq++
		}
	}
}

// TestTLS12EverySuite goes through decode/tls's suite table: TLS12 opens
// exactly the suites whose cipher and mode columns (taken from the IANA
// registry there, not from the name parsing here) are ones it implements,
// and refuses the others with ErrUnsupported.
func TestTLS12EverySuite(t *testing.T) {
	ciphers := map[string]bool{"AES_128": true, "AES_256": true, "3DES_EDE": true, "CHACHA20": true, "RC4_128": true, "NULL": true}
	modes := map[string]bool{"GCM": true, "CCM": true, "CCM_8": true, "CBC": true, "POLY1305": true, "STREAM": true, "NULL": true}
	macs := map[string]bool{"SHA": true, "SHA256": true, "SHA384": true, "MD5": true, "AEAD": true}
	p := keys.Params12{Version: 0x0303, Master: make([]byte, 48), ClientRandom: make([]byte, 32), ServerRandom: make([]byte, 32)}
	opened, refused := 0, 0
	for id := range 1 << 16 {
		cs, ok := tls.LookupCipherSuite(uint16(id))
		if !ok || cs.TLS13 || cs.Scsv {
			continue
		}
		p.Suite = cs.Name
		want := ciphers[cs.Cipher] && modes[cs.Mode] && macs[cs.MAC] && !cs.Export
		_, _, err := keys.TLS12(p)
		switch {
		case want && err != nil:
			t.Errorf("%s (0x%04x; %s %s %s): %v", cs.Name, cs.ID, cs.Cipher, cs.Mode, cs.MAC, err)
		case !want && !errors.Is(err, keys.ErrUnsupported):
			t.Errorf("%s (0x%04x; %s %s %s): %v, want ErrUnsupported", cs.Name, cs.ID, cs.Cipher, cs.Mode, cs.MAC, err)
		case want:
			opened++
		default:
			refused++
		}
	}
	t.Logf("%d suites opened, %d refused", opened, refused)
	if opened < 100 {
		t.Errorf("only %d suites of decode/tls's table open", opened)
	}
}

// handshake12 is a full handshake's messages (header included), in the
// order the transcript hashes them when the client sends no certificate:
// the ClientHello, the server's flight up to ServerHelloDone, then the
// client's up to and including ClientKeyExchange; and the
// ClientKeyExchange body.
func handshake12(c *conn12) (transcript, cke []byte) {
	msgs := func(dir int) [][]byte {
		var hs []byte
		for _, r := range c.recs[dir] {
			if r.typ == recordChangeCipherSpec {
				break
			}
			if r.typ == recordHandshake {
				hs = append(hs, r.body...)
			}
		}
		var out [][]byte
		s := cryptobyte.String(hs)
		for !s.Empty() {
			var typ uint8
			var body cryptobyte.String
			m := []byte(s)
			if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&body) {
				break
			}
			out = append(out, m[:4+len(body)])
		}
		return out
	}
	client, server := msgs(0), msgs(1)
	if len(client) < 2 || client[0][0] != 1 {
		return nil, nil
	}
	transcript = append(transcript, client[0]...)
	for _, m := range server {
		transcript = append(transcript, m...)
		if m[0] == 14 { // server_hello_done; a NewSessionTicket follows the client's flight
			break
		}
	}
	for _, m := range client[1:] {
		transcript = append(transcript, m...)
		if m[0] == 16 { // client_key_exchange
			return transcript, m[4:]
		}
	}
	return nil, nil
}

// TestMasterSecretFromRSAKeyExchange decrypts the pre-master secret of
// the RSA key exchange captures with the test server's private key
// (testdata/pcaps/certs/leaf.key), derives the master secret (RFC 5246,
// 8.1, or RFC 7627's extended one when the ServerHello has
// extended_master_secret) and compares it with the one the client logged.
func TestMasterSecretFromRSAKeyExchange(t *testing.T) {
	dir := testutil.Pcaps(t)
	pemKey, err := os.ReadFile(filepath.Join(dir, "certs", "leaf.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemKey)
	if blk == nil {
		t.Fatal("certs/leaf.key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv := k.(*rsa.PrivateKey)
	compared, sawPlain := 0, false
	for _, name := range []string{"tls12-rsa-aes128-sha-openssl", "tls12-aes128-ccm-openssl", "tls12-aes128-ccm8-openssl",
		"tls12-aes256-gcm-sha384-openssl", "tls12-null-cipher-openssl", "tls12-3des-go", "tls10-rsa-no-ems-openssl"} {
		kl := keyLog(t, filepath.Join(dir, name+".keys"))
		for _, c := range readConns(t, filepath.Join(dir, name+".pcap")) {
			h := hellos(c)
			transcript, cke := handshake12(c)
			if !h.ok || cke == nil {
				t.Errorf("%s: no full handshake", name)
				continue
			}
			s := cryptobyte.String(cke)
			var enc cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&enc) || !s.Empty() {
				t.Fatalf("%s: ClientKeyExchange is not an RSA EncryptedPreMasterSecret", name)
			}
			pre, err := rsa.DecryptPKCS1v15(nil, priv, enc)
			if err != nil {
				t.Fatalf("%s: decrypting the pre-master secret: %v", name, err)
			}
			p := params(t, h, nil)
			var hash []byte
			if h.ems {
				// RFC 7627, 3: the PRF's hash of the transcript (MD5 and
				// SHA-1 concatenated before TLS 1.2).
				switch {
				case p.Version < 0x0303:
					m, s := md5.Sum(transcript), sha1.Sum(transcript)
					hash = append(m[:], s[:]...)
				case strings.HasSuffix(p.Suite, "_SHA384"):
					s := sha512.Sum384(transcript)
					hash = s[:]
				default:
					s := sha256.Sum256(transcript)
					hash = s[:]
				}
			}
			sawPlain = sawPlain || !h.ems
			got := keys.MasterSecret(p, pre, h.ems, hash)
			want := kl[hex.EncodeToString(h.clientRandom)]
			if !bytes.Equal(got, want) {
				t.Errorf("%s (EMS %v): master secret %x, the client logged %x", name, h.ems, got, want)
			}
			compared++
		}
	}
	if compared < 7 || !sawPlain {
		t.Errorf("%d master secrets compared, want 7, one without extended_master_secret", compared)
	}
}
