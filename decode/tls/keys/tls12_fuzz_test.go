package keys_test

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls/keys"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// fuzzModes are one real connection per record protection mode, from
// testdata/pcaps: their parameters key the Openers, their records seed the
// corpus.
var fuzzModes = []string{
	"tls12-ecdhe-rsa-openssl",         // AES-128-GCM
	"tls12-aes256-gcm-sha384-openssl", // AES-256-GCM, SHA-384 PRF
	"tls12-aes128-ccm-openssl",        // CCM
	"tls12-aes128-ccm8-openssl",       // CCM_8
	"tls12-chacha20-openssl",          // ChaCha20-Poly1305
	"tls12-rsa-aes128-sha-openssl",    // CBC, encrypt_then_mac
	"tls12-cbc-no-etm-openssl",        // CBC, MAC-then-encrypt
	"tls10-no-etm-openssl",            // TLS 1.0 CBC, chained IVs
	"tls12-3des-go",                   // 3DES CBC
	"tls12-rc4-go",                    // RC4
	"tls12-null-cipher-openssl",       // NULL-SHA256
}

type fuzzMode struct {
	p    keys.Params12
	real map[string]bool // the capture's records, as fuzzKey gives them
}

func fuzzKey(mode, dir int, seq uint64, typ uint8, version uint16, body []byte) string {
	return fmt.Sprintf("%d/%d/%d/%d/%d/%x", mode, dir, seq, typ, version, body)
}

// FuzzOpen12 opens arbitrary records with every mode's real keys. It must
// never panic, must return nil plaintext with every error, and may succeed
// only on a record exactly as it was on the wire (same direction, sequence
// number, type, version and body): a changed record never opens.
func FuzzOpen12(f *testing.F) {
	dir := testutil.Pcaps(f)
	var modes []fuzzMode
	for mi, name := range fuzzModes {
		conns := readConns(f, filepath.Join(dir, name+".pcap"))
		kl := keyLog(f, filepath.Join(dir, name+".keys"))
		var m fuzzMode
		m.real = map[string]bool{}
		for _, c := range conns {
			h := hellos(c)
			master, ok := kl[hex.EncodeToString(h.clientRandom)]
			if !h.ok || !ok {
				continue
			}
			m.p = params(f, h, master)
			for d := range 2 {
				protected, seq := false, uint64(0)
				for _, r := range c.recs[d] {
					if !protected {
						protected = r.typ == recordChangeCipherSpec
						continue
					}
					m.real[fuzzKey(mi, d, seq, r.typ, r.version, r.body)] = true
					f.Add(uint8(mi|d<<7), seq, r.typ, r.version, r.body)
					seq++
				}
			}
			break
		}
		if m.p.Master == nil {
			f.Fatalf("%s: no connection with keys", name)
		}
		modes = append(modes, m)
	}
	f.Fuzz(func(t *testing.T, sel uint8, seq uint64, typ uint8, version uint16, body []byte) {
		mi, d := int(sel&0x7f)%len(modes), int(sel>>7)
		m := modes[mi]
		client, server, err := keys.TLS12(m.p)
		if err != nil {
			t.Fatal(err)
		}
		op := client
		if d == 1 {
			op = server
		}
		dst := make([]byte, 0, 8)
		_, pt, err := op.Open(dst, seq, typ, version, body)
		if err != nil {
			if pt != nil {
				t.Fatalf("%s: error %v with %d bytes of plaintext", fuzzModes[mi], err, len(pt))
			}
			return
		}
		if !m.real[fuzzKey(mi, d, seq, typ, version, body)] {
			t.Fatalf("%s: a record not on the wire opened: seq %d type %d version %04x body %x", fuzzModes[mi], seq, typ, version, body)
		}
	})
}
