package cleartext

import (
	"fmt"
	"strings"
	"testing"
)

// TestSecretsOutsideRecognisedFields (issue 19): userinfo in a Host
// header, a card number in a URL path, password= in a User-Agent and a
// token in an unnamed header are reported, and the host, path and user
// agent printed with the request and with its secrets show them masked,
// unless secrets are to be shown.
func TestSecretsOutsideRecognisedFields(t *testing.T) {
	const (
		pass  = "Hunter2Secret"
		card  = "4111111111111111"
		uapw  = "s3cretUApw"
		token = "ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789"
	)
	req := crlf("GET /pay/" + card + "/confirm HTTP/1.1\nHost: alice:" + pass + "@shop.example\nUser-Agent: Mozilla/5.0 (X11) password=" + uapw + "\nX-Debug: " + token + "\n\n")
	cv := conv{c2s(req), s2c(crlf("HTTP/1.1 200 OK\nContent-Length: 0\n\n"))}
	for _, show := range []bool{false, true} {
		r := runAs(HTTP, cv, Config{ShowSecrets: show}, nil)
		kinds := map[string]bool{}
		for _, s := range r.secrets {
			kinds[s.Type+" "+s.Field] = true
			if !show {
				for _, raw := range []string{pass, card, uapw, token} {
					if strings.Contains(fmt.Sprintf("%+v", s), raw) {
						t.Errorf("secret %s/%s shows %q: %+v", s.Type, s.Field, raw, s)
					}
				}
			}
		}
		for _, want := range []string{"url-userinfo host", "card-visa path", "password-field header User-Agent password", "github-pat X-Debug"} {
			if !kinds[want] {
				t.Errorf("show=%v: no %q secret among %v", show, want, kinds)
			}
		}
		if len(r.http) != 1 {
			t.Fatalf("%d HTTP messages", len(r.http))
		}
		m := r.http[0]
		printed := m.Host + " " + m.Path + " " + m.UserAgent
		for _, raw := range []string{pass, card, uapw} {
			if got := strings.Contains(printed, raw); got != show {
				t.Errorf("show=%v: the printed request %q contains %q: %v", show, printed, raw, got)
			}
		}
	}
}
