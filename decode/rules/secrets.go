package rules

import (
	"fmt"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// secretRules: each cleartext secret becomes a finding whose id is its
// Kind. Evidence is built from masked fields only: the secret's Value
// never reaches a finding.
func (e *eval) secretRules() {
	for _, s := range e.c.Secrets {
		id := s.Kind
		if id == "" {
			id = "plaintext-credentials"
		}
		var sev *facts.Severity
		if v, ok := facts.ParseSeverity(s.Severity); ok {
			sev = &v
		}
		title := strings.ToLower(id)
		if d, ok := byID[id]; ok {
			title = strings.ToLower(d.Title[:1]) + d.Title[1:]
		}
		proto := strings.ToUpper(s.Protocol)
		if proto == "" {
			proto = "cleartext"
		}
		msg := fmt.Sprintf("%s over %s", title, proto)
		if t, ok := strings.CutSuffix(title, " over cleartext"); ok {
			msg = t + " over " + proto // not "served over cleartext over HTTP"
		}
		if s.Type != "" {
			msg += " (" + s.Type + ")"
		}
		if s.Detail != "" {
			msg += "; " + s.Detail
		}
		// The value as the user asked to see it: Value is set only with
		// show-secrets (cleartext.Config.ShowSecrets), and then really shown.
		shown := s.Masked
		if s.Value != "" {
			shown = s.Value
		}
		field := shown
		if s.Field != "" {
			field = s.Field + "=" + shown
		}
		user := ""
		if s.User != "" {
			user = "user=" + s.User
		}
		target := s.Host + s.Path
		if strings.Contains(s.Path, "://") {
			target = s.Path // a proxy request's absolute URI names its host
		}
		e.addStep(facts.ProtocolStep(s.Protocol), id, sev, s.Time, "", msg, joinNonEmpty(" ", s.Method, target, field, user))
	}
}
