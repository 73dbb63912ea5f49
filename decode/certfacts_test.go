package decode_test

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestCertificatesDescribed: every certificate a connection's session
// holds is described on the connection, in wire order, when the
// connection closes and already when its handshake is reported (live
// printing reads it then); the SHA-256 is the DER's, computed here apart
// from decode/certs.
func TestCertificatesDescribed(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, when string, c *facts.Connection) int {
		if c.TLS == nil {
			if len(c.Certificates)+len(c.ClientCertificates) != 0 {
				t.Errorf("#%d %s: descriptions without a session", c.ID, when)
			}
			return 0
		}
		n := 0
		for _, side := range []struct {
			desc  []facts.Certificate
			chain int
		}{{c.Certificates, len(c.TLS.Certificates)}, {c.ClientCertificates, len(c.TLS.ClientCertificates)}} {
			if len(side.desc) != side.chain {
				t.Errorf("#%d %s: %d descriptions of %d certificates", c.ID, when, len(side.desc), side.chain)
			}
		}
		for i, x := range c.TLS.Certificates[:min(len(c.Certificates), len(c.TLS.Certificates))] {
			sum := sha256.Sum256(x.Raw)
			if d := c.Certificates[i]; d.SHA256 != hex.EncodeToString(sum[:]) || !reflect.DeepEqual(d, certs.Describe(x)) || d.Subject == "" {
				t.Errorf("#%d %s: certificate %d described as %+v", c.ID, when, i, d)
			}
			n++
		}
		for i, x := range c.TLS.ClientCertificates[:min(len(c.ClientCertificates), len(c.TLS.ClientCertificates))] {
			if d := c.ClientCertificates[i]; !reflect.DeepEqual(d, certs.Describe(x)) {
				t.Errorf("#%d %s: client certificate %d described as %+v", c.ID, when, i, d)
			}
			n++
		}
		return n
	}
	closed, atHandshake := 0, 0
	for _, p := range paths {
		name := filepath.Base(p)
		_, err := decode.ReadFile(p, name, decode.Config{}, decode.Handler{
			Handshake:  func(c *facts.Connection) { atHandshake += check(t, name+" at handshake", c) },
			Connection: func(c *facts.Connection) { closed += check(t, name+" at close", c) },
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Counted on the repository's captures when this test was written.
	if closed < 50 || atHandshake < 50 {
		t.Errorf("compared %d certificates at close, %d at the handshake; want at least 50 each", closed, atHandshake)
	}
	t.Logf("%d certificates at close, %d at the handshake", closed, atHandshake)
}
