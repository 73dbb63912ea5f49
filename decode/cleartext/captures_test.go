package cleartext

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// manifestEntry is the part of testdata/pcaps/manifest.json these tests
// read: what each recorded scenario planted (see testdata/pcaps/README).
type manifestEntry struct {
	Pcap           string   `json:"pcap"`
	Protocol       string   `json:"protocol"`
	Findings       []string `json:"findings"`
	Secrets        []string `json:"secrets"`
	DecodedSecrets []string `json:"decoded_secrets"`
	HiddenSecrets  []string `json:"hidden_secrets"`
	StartTLS       bool     `json:"starttls"`
}

func readManifest(t *testing.T) (string, []manifestEntry) {
	t.Helper()
	dir := testutil.Pcaps(t)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no manifest: %v", err)
	}
	var m struct {
		Captures []manifestEntry `json:"captures"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return dir, m.Captures
}

// TestRecordedCaptures runs the cleartext scenarios recorded from real
// clients (curl, ftplib, smtplib, poplib, imaplib, telnetlib): every planted
// secret is found with the finding the manifest names, no masked field
// shows it, and STARTTLS scenarios give nothing but the upgrade.
func TestRecordedCaptures(t *testing.T) {
	dir, entries := readManifest(t)
	n := 0
	for _, e := range entries {
		if e.Protocol == "" {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(e.Pcap, ".pcap"), func(t *testing.T) {
			t.Parallel()
			pcap := filepath.Join(dir, e.Pcap)
			if e.StartTLS {
				checkStartTLS(t, pcap, Protocol(e.Protocol))
				return
			}
			shown := runCapture(t, pcap, Config{ShowSecrets: true})
			var all []facts.Secret
			kinds := map[string]bool{}
			for _, r := range shown {
				if r.proto != "" && r.proto != Protocol(e.Protocol) {
					t.Errorf("sniffed as %q, want %q", r.proto, e.Protocol)
				}
				all = append(all, r.secrets...)
				for _, s := range r.secrets {
					kinds[s.Kind] = true
				}
			}
			for _, f := range e.Findings {
				if !kinds[f] {
					t.Errorf("no %s secret; got %s", f, describe(all))
				}
			}
			planted := e.Secrets
			if len(e.DecodedSecrets) > 0 {
				planted = e.DecodedSecrets
			}
			for _, p := range planted {
				if strings.Contains(p, `type="password"`) {
					continue // a login page: nothing secret to find
				}
				if !foundValue(all, p) {
					t.Errorf("planted %q not found; got %s", p, describe(all))
				}
			}
			masked := runCapture(t, pcap, Config{})
			for _, r := range masked {
				for _, s := range r.secrets {
					if s.Value != "" {
						t.Errorf("Value without ShowSecrets: %+v", s)
					}
					for _, p := range append(append([]string{}, e.Secrets...), e.DecodedSecrets...) {
						if !strings.Contains(p, `type="password"`) {
							checkMasked(t, s, p)
						}
					}
				}
			}
		})
	}
	if n == 0 {
		t.Skip("no cleartext scenario in the manifest")
	}
}

// foundValue: some secret's value is the planted string, or is contained in
// it (a planted "user:password" or "name=value" holds the value found).
func foundValue(all []facts.Secret, planted string) bool {
	for _, s := range all {
		if s.Value != "" && (s.Value == planted || strings.Contains(planted, s.Value) && len(s.Value)*2 >= len(planted)-len(s.User)-1) {
			return true
		}
	}
	return false
}

func describe(all []facts.Secret) string {
	var b strings.Builder
	for _, s := range all {
		b.WriteString("\n\t" + s.Kind + " " + s.Type + " field=" + s.Field + " user=" + s.User + " masked=" + s.Masked + " value=" + s.Value)
	}
	return b.String()
}
