package cleartext

import (
	"regexp"
	"strings"
)

// tokenRule is one well-known secret format. The patterns are written here
// from the published rules of gitleaks (config/gitleaks.toml in
// github.com/gitleaks/gitleaks, read 2026-11); each cites the rule id it
// follows. They are RE2 (linear time), anchored on word boundaries so that a
// longer run of token characters does not match by accident. gitleaks'
// allowlists (e.g. AWS keys ending in EXAMPLE) are not applied: on the wire
// even an example key means credentials travel in the clear.
type tokenRule struct {
	typ  string // facts.Secret.Type
	gl   string // the gitleaks rule id it follows
	hint string // a literal every match contains (cheap pre-check), lower case
	re   *regexp.Regexp
}

var tokenRules = []tokenRule{
	// gitleaks aws-access-token
	{"aws-access-key", "aws-access-token", "", regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`)},
	// gitleaks github-pat
	{"github-pat", "github-pat", "ghp_", regexp.MustCompile(`\b(ghp_[0-9a-zA-Z]{36})\b`)},
	// gitleaks github-fine-grained-pat
	{"github-fine-grained-pat", "github-fine-grained-pat", "github_pat_", regexp.MustCompile(`\b(github_pat_\w{82})\b`)},
	// gitleaks github-oauth
	{"github-oauth", "github-oauth", "gho_", regexp.MustCompile(`\b(gho_[0-9a-zA-Z]{36})\b`)},
	// gitleaks github-app-token
	{"github-app-token", "github-app-token", "gh", regexp.MustCompile(`\b((?:ghu|ghs)_[0-9a-zA-Z]{36})\b`)},
	// gitleaks github-refresh-token
	{"github-refresh-token", "github-refresh-token", "ghr_", regexp.MustCompile(`\b(ghr_[0-9a-zA-Z]{36})\b`)},
	// gitleaks gitlab-pat
	{"gitlab-pat", "gitlab-pat", "glpat-", regexp.MustCompile(`\b(glpat-[\w-]{20,300})`)},
	// gitleaks slack-bot-token, slack-legacy-bot-token
	{"slack-bot-token", "slack-bot-token", "xoxb-", regexp.MustCompile(`\b(xoxb-[0-9]{8,14}-[a-zA-Z0-9-]{10,})`)},
	// gitleaks slack-user-token
	{"slack-user-token", "slack-user-token", "xox", regexp.MustCompile(`\b(xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})`)},
	// gitleaks slack-app-token
	{"slack-app-token", "slack-app-token", "xapp-", regexp.MustCompile(`(?i)\b(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)`)},
	// gitleaks slack-webhook-url
	{"slack-webhook-url", "slack-webhook-url", "hooks.slack.com", regexp.MustCompile(`(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})`)},
	// gitleaks stripe-access-token
	{"stripe-key", "stripe-access-token", "k_", regexp.MustCompile(`\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})\b`)},
	// gitleaks gcp-api-key
	{"google-api-key", "gcp-api-key", "aiza", regexp.MustCompile(`\b(AIza[\w-]{35})(?:[^\w-]|$)`)},
	// gitleaks openai-api-key (legacy form)
	{"openai-api-key", "openai-api-key", "t3blbkfj", regexp.MustCompile(`\b(sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})\b`)},
	// gitleaks anthropic-api-key
	{"anthropic-api-key", "anthropic-api-key", "sk-ant-api03-", regexp.MustCompile(`\b(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)`)},
	// gitleaks npm-access-token
	{"npm-token", "npm-access-token", "npm_", regexp.MustCompile(`(?i)\b(npm_[a-z0-9]{36})\b`)},
	// gitleaks pypi-upload-token
	{"pypi-token", "pypi-upload-token", "pypi-", regexp.MustCompile(`\b(pypi-AgEIcHlwaS5vcmc[\w-]{50,1000})`)},
	// gitleaks sendgrid-api-token
	{"sendgrid-api-key", "sendgrid-api-token", "sg.", regexp.MustCompile(`\b(SG\.[a-zA-Z0-9=_\-.]{66})`)},
	// gitleaks shopify-access-token
	{"shopify-token", "shopify-access-token", "shp", regexp.MustCompile(`\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b`)},
	// gitleaks private-key; the body is bounded here, gitleaks' is lazy.
	{"private-key", "private-key", "-----begin", regexp.MustCompile(`(?i)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?KEY(?: BLOCK)?-----)`)},
	// gitleaks jwt
	{"jwt", "jwt", "ey", regexp.MustCompile(`\b(ey[a-zA-Z0-9_-]{17,}\.ey[a-zA-Z0-9_-]{17,}\.[a-zA-Z0-9_-]{10,}={0,2})`)},
}

// tokenMatch is one well-known secret found in text.
type tokenMatch struct {
	typ   string
	value string
}

// scanTokens finds well-known secret formats in the first maxScan bytes
// of text, up to maxMatches per rule; more says there were others (past
// maxScan too: the caller that has a stream says which, see scanBound).
func scanTokens(text string) (out []tokenMatch, more bool) {
	if len(text) > maxScan {
		text, more = text[:maxScan], true
	}
	var lower string
	for i := range tokenRules {
		r := &tokenRules[i]
		if r.hint != "" {
			if lower == "" {
				lower = strings.ToLower(text)
			}
			if !strings.Contains(lower, r.hint) {
				continue
			}
		}
		ms := r.re.FindAllStringSubmatch(text, maxMatches+1)
		if len(ms) > maxMatches { // maxMatches is enforced here
			ms, more = ms[:maxMatches], true
		}
		for _, m := range ms {
			v := m[1]
			if dupMatch(out, v) {
				continue
			}
			out = append(out, tokenMatch{typ: r.typ, value: v})
		}
	}
	return out, more
}

// dupMatch: the same text may match two rules (a github-pat is not also a
// jwt); the first rule wins.
func dupMatch(ms []tokenMatch, v string) bool {
	for _, m := range ms {
		if strings.Contains(m.value, v) || strings.Contains(v, m.value) {
			return true
		}
	}
	return false
}

// tokenType says whether a whole value is a well-known secret format (at
// least half of it one match: what scanTokens leaves out cannot change
// that, so it is not reported).
func tokenType(v string) string {
	ms, _ := scanTokens(v)
	for _, m := range ms {
		if len(m.value)*2 >= len(v) {
			return m.typ
		}
	}
	return ""
}

// Field names. A name is normalised (lower case, the last bracketed part of
// "user[password]", separators unified) before it is classified.
func normName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(n, '['); i >= 0 {
		if j := strings.IndexByte(n[i:], ']'); j > 1 {
			n = n[i+1 : i+j]
		}
	}
	if i := strings.LastIndexByte(n, '.'); i >= 0 && i+1 < len(n) {
		n = n[i+1:]
	}
	return nameSeparators.Replace(n)
}

var nameSeparators = strings.NewReplacer("-", "_", " ", "_")

// fieldClass is what a form, query or JSON field name says about its value.
type fieldClass uint8

const (
	classNone fieldClass = iota
	classPassword
	classSecret
	classToken
	classUser
)

// classify reads a field name. CSRF tokens, which protect rather than
// authenticate, are not secrets.
func classify(name string) fieldClass {
	n := normName(name)
	if n == "" {
		return classNone
	}
	if strings.Contains(n, "csrf") || strings.Contains(n, "xsrf") || n == "_token" ||
		n == "authenticity_token" || n == "__requestverificationtoken" || strings.Contains(n, "captcha") {
		return classNone
	}
	switch n {
	case "password", "passwd", "pwd", "pass", "pw", "passphrase", "passcode", "pin_code", "userpassword", "user_pass", "user_password":
		return classPassword
	case "secret", "client_secret", "secret_key", "secretkey", "aws_secret_access_key", "private_key", "api_secret", "app_secret":
		return classSecret
	case "token", "access_token", "auth_token", "authtoken", "refresh_token", "id_token", "session_token",
		"api_key", "apikey", "api_token", "apitoken", "x_api_key", "x_auth_token", "private_token",
		"access_key", "access_key_id", "aws_access_key_id", "bearer", "jwt", "auth", "key", "oauth_token", "client_assertion":
		return classToken
	case "username", "user", "login", "user_name", "userid", "user_id", "email", "mail", "account", "uname", "loginname", "login_name", "j_username", "log":
		return classUser
	}
	switch {
	case strings.Contains(n, "password") || strings.Contains(n, "passwd") || strings.Contains(n, "passphrase") ||
		strings.HasSuffix(n, "_pwd") || strings.HasSuffix(n, "_pass") || strings.HasPrefix(n, "pass_"):
		return classPassword
	case strings.Contains(n, "secret"):
		return classSecret
	case strings.Contains(n, "api_key") || strings.Contains(n, "apikey") || strings.HasSuffix(n, "_token") ||
		strings.HasSuffix(n, "token") && len(n) > 5:
		return classToken
	}
	return classNone
}

// tokenHeader says whether a header carries an API key or token by name.
func tokenHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token", "x-access-token", "x-token",
		"private-token", "x-goog-api-key", "x-amz-security-token", "ocp-apim-subscription-key",
		"x-vault-token", "x-consul-token", "x-nomad-token", "x-jfrog-art-api", "x-figma-token",
		"x-shopify-access-token", "x-auth-key", "x-secret-key", "x-session-token", "authentication":
		return true
	}
	if strings.Contains(n, "csrf") || strings.Contains(n, "xsrf") {
		return false
	}
	return strings.Contains(n, "api-key") || strings.Contains(n, "apikey") ||
		strings.HasSuffix(n, "-token") || strings.Contains(n, "secret")
}

// Session cookies: names that frameworks give their session identifiers.
func sessionCookie(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "sessionid", "session_id", "session", "sessid", "phpsessid", "jsessionid", "asp.net_sessionid",
		"connect.sid", "laravel_session", "sid", "ssid", "auth", "token", "auth_token", "access_token",
		"remember_token", "remember_user_token", "rack.session", ".aspxauth", ".aspnetcore.session",
		".aspnetcore.cookies", "cfid", "cftoken", "jwt", "id_token", "refresh_token", "express.sid",
		"koa.sess", "koa:sess", "express:sess", "symfony", "ci_session", "django_session", "sess":
		return true
	}
	return strings.HasSuffix(n, "_session") || strings.HasSuffix(n, "-session") ||
		strings.HasPrefix(n, "aspsessionid") || strings.HasPrefix(n, "wordpress_logged_in_") ||
		strings.HasPrefix(n, "wordpress_sec_") || strings.HasSuffix(n, "sessionid") ||
		strings.HasSuffix(n, "_sess") || strings.HasSuffix(n, "_auth") || strings.HasSuffix(n, "_token") && !strings.Contains(n, "csrf") && !strings.Contains(n, "xsrf")
}
