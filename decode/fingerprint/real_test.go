package fingerprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// realClientHellos returns the TCP ClientHellos of a corpus capture, parsed
// by decode/tls from the bytes tshark extracted, or nil when the corpus or
// tshark is missing (for seeding, where a skip would lose the other seeds).
func realClientHellos(tb testing.TB, rel string) []*tls.ClientHello {
	tb.Helper()
	dir := os.Getenv("TLSSCOPE_CORPUS")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(tb), "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
		return nil
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		return nil
	}
	var out []*tls.ClientHello
	for _, w := range tsharkHellos(tb, filepath.Join(dir, rel)) {
		if w.UDP || w.SSLv2 || w.Type != 1 {
			continue
		}
		if ch, _ := tls.ParseClientHello(w.Body); ch != nil {
			out = append(out, ch)
		}
	}
	return out
}

// chromeHello is the ClientHello of Chrome's TCP connection in FoxIO's
// chrome-cloudflare-quic-with-secrets.pcapng (INDEX #8).
func chromeHello(b *testing.B) *tls.ClientHello {
	chs := realClientHellos(b, "ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng")
	if len(chs) == 0 {
		b.Skip("corpus capture or tshark not available")
	}
	return chs[0]
}
