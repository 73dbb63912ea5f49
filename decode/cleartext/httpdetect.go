package cleartext

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// kv is one named value from a query string, form, JSON document or
// multipart body.
type kv struct{ name, value string }

// base is the HTTP context every secret of a message carries.
func (c *httpConn) base(ex *exchange, m *httpMsg, from tls.Direction) facts.Secret {
	sec := facts.Secret{Protocol: string(HTTP), From: uint8(from)}
	switch {
	case m.request:
		sec.Method, sec.Host, sec.Path = m.method, m.get("Host"), sanitizePath(m.target)
	case ex != nil:
		sec.Method, sec.Host, sec.Path = ex.method, ex.host, sanitizePath(ex.path)
	}
	return sec
}

// emit reports a secret found in the message being analysed and keeps
// its value, so that the message's host, path and user agent, which are
// printed, show it masked (redact).
func (c *httpConn) emit(sec facts.Secret, value string) {
	if len(value) >= minRedacted && sec.Masked != "" && sec.Masked != value {
		c.redactions = append(c.redactions, redaction{value, sec.Masked})
	}
	c.s.emit(sec, value)
}

// minRedacted: values shorter than this are not searched for in the
// printed host, path and user agent (a two-letter password would mask
// every "ab" in them).
const minRedacted = 4

// redaction is a secret's value and how it is printed.
type redaction struct{ value, masked string }

// redact shows in s, a printed host, path or user agent, every secret
// found in the message masked, unless the user asked to see secrets.
func (c *httpConn) redact(s string) string {
	if c.s.cfg.ShowSecrets {
		return s
	}
	for _, r := range c.redactions {
		s = strings.ReplaceAll(s, r.value, r.masked)
	}
	return s
}

// analyzeRequest finds the secrets of a request: in its credential and
// cookie headers, the userinfo of its Host header or absolute target, its
// path (card numbers and tokens), every other header value (tokens, card
// numbers, name=value pairs such as password= in a User-Agent), its query
// and its body. What it finds is masked in the host, path and user agent
// printed with the request and its secrets.
func (c *httpConn) analyzeRequest(m *httpMsg, ex *exchange) {
	c.redactions = c.redactions[:0]
	b := c.base(ex, m, tls.ClientToServer)
	c.hostAndPath(&b, m)
	for _, h := range m.headers {
		switch strings.ToLower(h.name) {
		case "authorization", "proxy-authorization":
			c.authHeader(b, h.name, h.value)
		case "cookie":
			c.cookies(b, h.value)
		case "host": // hostAndPath
		case "content-length", "content-type", "accept", "accept-encoding", "accept-language",
			"connection", "transfer-encoding", "content-encoding", "cache-control",
			"if-modified-since", "if-none-match", "pragma", "upgrade-insecure-requests", "date":
			// Structured values: nothing secret in them unless smuggled
			// as a name=value pair.
			c.headerPairs(b, h.name, h.value)
		default:
			if tokenHeader(h.name) && len(h.value) >= 4 {
				typ := tokenType(h.value)
				if typ == "" {
					typ = "api-key"
				}
				sec := b
				sec.Kind, sec.Type, sec.Field, sec.Masked = KindCredentials, typ, h.name, MaskToken(typ, h.value)
				c.emit(sec, h.value)
				continue
			}
			c.scanText(b, h.name, h.value, false)
			c.headerPairs(b, h.name, h.value)
		}
	}
	defer func() {
		if ex != nil {
			ex.fact.Host, ex.fact.Path, ex.fact.UserAgent = c.redact(ex.fact.Host), c.redact(ex.fact.Path), c.redact(ex.fact.UserAgent)
			ex.host, ex.path = c.redact(ex.host), c.redact(ex.path) // the context of the response's secrets
		}
	}()
	// Credentials in an absolute request target (a proxy request).
	if i := strings.Index(m.target, "://"); i >= 0 {
		rest := m.target[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			user, pass, ok := strings.Cut(rest[:at], ":")
			if ok && pass != "" {
				sec := b
				sec.Kind, sec.Type, sec.Field = KindCredentials, "url-userinfo", "request-target"
				sec.User, sec.Masked = unescape(user), Mask(unescape(pass))
				c.emit(sec, unescape(pass))
			}
		}
	}
	if q := strings.IndexByte(m.target, '?'); q >= 0 {
		query := m.target[q+1:]
		if h := strings.IndexByte(query, '#'); h >= 0 {
			query = query[:h]
		}
		fs, more := parseForm(query)
		c.capHit(more, AnomalyTooManyFields, tls.ClientToServer, "query")
		c.fields(b, "query", fs, true)
	}
	if len(m.body) == 0 {
		return
	}
	body := c.decoded(m, tls.ClientToServer)
	ct := strings.ToLower(m.get("Content-Type"))
	mt, params, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/x-www-form-urlencoded":
		fs, more := parseForm(string(body))
		c.capHit(more, AnomalyTooManyFields, tls.ClientToServer, "form")
		c.fields(b, "form", fs, true)
	case strings.Contains(mt, "json"):
		c.fields(b, "json", c.json(body, tls.ClientToServer), true)
	case strings.HasPrefix(mt, "multipart/"):
		// The boundary is case-sensitive: take it from the original value.
		_, params, _ = mime.ParseMediaType(m.get("Content-Type"))
		c.multipart(b, body, params["boundary"])
	default:
		if textLike(body) {
			// An unlabelled body that parses as a form or JSON is read as one.
			if fs := c.json(body, tls.ClientToServer); fs != nil {
				c.fields(b, "json", fs, true)
			} else {
				c.scanText(b, "body", string(body), true)
			}
		}
	}
}

func (c *httpConn) analyzeResponse(m *httpMsg, ex *exchange) {
	c.redactions = c.redactions[:0]
	b := c.base(ex, m, tls.ServerToClient)
	for _, h := range m.headers {
		if strings.EqualFold(h.name, "Set-Cookie") {
			c.setCookie(b, h.value)
		}
	}
	if len(m.body) == 0 {
		return
	}
	body := c.decoded(m, tls.ServerToClient)
	ct := strings.ToLower(m.get("Content-Type"))
	switch {
	case strings.Contains(ct, "html") || ct == "" && looksHTML(body):
		c.loginPage(b, body)
	case strings.Contains(ct, "json"):
		// Tokens handed out in the clear (an OAuth token response).
		var toks []kv
		for _, f := range c.json(body, tls.ServerToClient) {
			if cl := classify(f.name); cl == classToken || cl == classSecret {
				toks = append(toks, f)
			}
		}
		c.fields(b, "json", toks, false)
	}
}

// decoded undoes Content-Encoding (gzip, deflate), bounded by MaxBody.
func (c *httpConn) decoded(m *httpMsg, dir tls.Direction) []byte {
	enc := strings.ToLower(strings.TrimSpace(m.get("Content-Encoding")))
	if enc == "" || enc == "identity" {
		return m.body
	}
	codings := strings.Split(enc, ",")
	body := m.body
	for i := len(codings) - 1; i >= 0; i-- {
		var r io.Reader
		var err error
		switch strings.TrimSpace(codings[i]) {
		case "gzip", "x-gzip":
			r, err = gzip.NewReader(bytes.NewReader(body))
		case "deflate":
			// RFC 9110 says zlib; some servers send raw deflate.
			if r, err = zlib.NewReader(bytes.NewReader(body)); err != nil {
				r, err = flate.NewReader(bytes.NewReader(body)), nil
			}
		case "identity", "":
			continue
		default:
			c.s.anomaly(AnomalyUnsupportedEncoding, dir, codings[i])
			return nil
		}
		if err != nil {
			c.s.anomaly(AnomalyBadEncoding, dir, err.Error())
			return nil
		}
		out, err := io.ReadAll(io.LimitReader(r, int64(c.s.cfg.MaxBody)+1))
		if len(out) > c.s.cfg.MaxBody {
			out = out[:c.s.cfg.MaxBody]
			c.s.truncated(AnomalyDecompressedOverLimit, dir, "")
		} else if err != nil && err != io.ErrUnexpectedEOF || err == io.ErrUnexpectedEOF && !m.over {
			c.s.anomaly(AnomalyBadEncoding, dir, err.Error())
		}
		body = out
	}
	return body
}

// authHeader reads Authorization and Proxy-Authorization (RFC 9110, 11.6).
func (c *httpConn) authHeader(b facts.Secret, name, value string) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(value), " ")
	cred = strings.TrimSpace(cred)
	sec := b
	sec.Kind, sec.Field = KindCredentials, name
	switch strings.ToLower(scheme) {
	case "basic": // RFC 7617
		raw, err := decodeBase64(cred)
		user, pass, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			sec.Type, sec.Masked, sec.Detail = "basic-auth", Mask(cred), "credentials not base64 user:password"
			c.emit(sec, cred)
			return
		}
		sec.Type, sec.User, sec.Masked = "basic-auth", user, Mask(pass)
		c.emit(sec, pass)
	case "digest": // RFC 7616: the password itself does not cross, a hash of it does
		p, more := authParams(cred)
		c.capHit(more, AnomalyTooManyAuthParams, tls.ClientToServer, name)
		sec.Type, sec.User, sec.Severity = "digest-auth", p["username"], "info"
		sec.Masked = MaskToken("digest-response", p["response"])
		alg := p["algorithm"]
		if alg == "" {
			alg = "MD5"
		}
		sec.Detail = "algorithm=" + alg
		if p["qop"] != "" {
			sec.Detail += " qop=" + p["qop"]
		}
		if p["realm"] != "" {
			sec.Detail += " realm=" + strconv.Quote(p["realm"])
		}
		c.emit(sec, p["response"])
	case "bearer": // RFC 6750
		if d, ok := jwtSummary(cred); ok {
			sec.Type, sec.Masked, sec.Detail = "jwt", MaskToken("jwt", cred), d
		} else {
			typ := tokenType(cred)
			if typ == "" {
				typ = "bearer-token"
			}
			sec.Type, sec.Masked = typ, MaskToken(typ, cred)
		}
		c.emit(sec, cred)
	case "ntlm", "negotiate":
		raw, err := decodeBase64(cred)
		if err != nil {
			return
		}
		n, ok := parseNTLM(raw)
		if !ok {
			return // SPNEGO/Kerberos, or an NTLM negotiate/challenge: no credential
		}
		sec.Type, sec.User, sec.Detail = "ntlm", n.user, n.detail
		sec.Masked = MaskToken("ntlm-response", string(n.response))
		c.emit(sec, cred)
	default:
		if cred == "" {
			cred, scheme = scheme, "token"
		}
		typ := tokenType(cred)
		if typ == "" {
			// Name the scheme when it is a plain word that says nothing
			// about the credential.
			typ = "authorization"
			if sc := strings.ToLower(scheme); len(sc) <= 24 && isSchemeName(sc) && !strings.Contains(strings.ToLower(cred), sc) {
				typ += "-" + sc
			}
		}
		sec.Type, sec.Masked = typ, MaskToken(typ, cred)
		c.emit(sec, cred)
	}
}

// authParams parses auth-param lists: name=token or name="quoted", up to
// maxAuthParams of them (enforced here); more says some were left unread.
func authParams(s string) (p map[string]string, more bool) {
	p = map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,\t")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		if len(p) >= maxAuthParams {
			return p, true
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		p[name] = val
	}
	return p, false
}

func (c *httpConn) cookies(b facts.Secret, v string) {
	for _, part := range strings.Split(v, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		val = strings.Trim(val, `"`)
		if !ok || val == "" {
			continue
		}
		if !sessionCookie(name) && tokenType(val) != "jwt" {
			continue
		}
		sec := b
		sec.Kind, sec.Type, sec.Field, sec.Masked = KindSessionCookie, "session-cookie", "Cookie: "+name, Mask(val)
		c.emit(sec, val)
	}
}

// setCookie reads one Set-Cookie (RFC 6265, 4.1): a session cookie handed
// out over plain HTTP is exposed whatever its attributes; without Secure the
// browser will also send it back over plain HTTP.
func (c *httpConn) setCookie(b facts.Secret, v string) {
	parts := strings.Split(v, ";")
	name, val, ok := strings.Cut(strings.TrimSpace(parts[0]), "=")
	val = strings.Trim(val, `"`)
	if !ok || val == "" || !sessionCookie(name) && tokenType(val) != "jwt" {
		return
	}
	secure, httpOnly, expired := false, false, false
	for _, a := range parts[1:] {
		an, av, _ := strings.Cut(strings.TrimSpace(a), "=")
		switch strings.ToLower(an) {
		case "secure":
			secure = true
		case "httponly":
			httpOnly = true
		case "max-age":
			if n, err := strconv.Atoi(strings.TrimSpace(av)); err == nil && n <= 0 {
				expired = true
			}
		}
	}
	if expired || strings.EqualFold(val, "deleted") {
		return
	}
	sec := b
	sec.Kind, sec.Type, sec.Field, sec.Masked = KindSessionCookie, "set-cookie", "Set-Cookie: "+name, Mask(val)
	if secure {
		sec.Detail = "Secure attribute set, but handed out over plain HTTP"
	} else {
		sec.Type = "set-cookie-without-secure"
		sec.Detail = "no Secure attribute: the browser will send it over plain HTTP"
	}
	if !httpOnly {
		sec.Detail += "; no HttpOnly"
	}
	c.emit(sec, val)
}

// fields looks at named values: password-like, secret-like and token-like
// names, well-known token formats in any value and, in requests, card
// numbers and personal data.
func (c *httpConn) fields(b facts.Secret, src string, fs []kv, request bool) {
	user := ""
	for _, f := range fs {
		if classify(f.name) == classUser && f.value != "" && len(f.value) <= 256 {
			user = f.value
			break
		}
	}
	for _, f := range fs {
		if f.value == "" {
			continue
		}
		field := src + " " + f.name
		sec := b
		sec.Kind, sec.Field = KindCredentials, field
		if typ := tokenType(f.value); typ != "" {
			sec.Type, sec.Masked = typ, MaskToken(typ, f.value)
			if typ == "jwt" {
				sec.Detail, _ = jwtSummary(f.value)
			}
			c.emit(sec, f.value)
			continue
		}
		switch classify(f.name) {
		case classPassword:
			sec.Type, sec.User, sec.Masked = "password-field", user, Mask(f.value)
			c.emit(sec, f.value)
			continue
		case classSecret:
			if len(f.value) >= 4 {
				sec.Type, sec.Masked = "secret-field", Mask(f.value)
				c.emit(sec, f.value)
				continue
			}
		case classToken:
			if tokenLike(f.value) {
				typ := "token"
				if n := normName(f.name); strings.Contains(n, "key") {
					typ = "api-key"
				}
				sec.Type, sec.Masked = typ, MaskToken(typ, f.value)
				c.emit(sec, f.value)
				continue
			}
		}
		if request {
			c.scanText(b, field, f.value, true)
		}
	}
}

func isBoolOrNumber(v string) bool {
	if v == "true" || v == "false" || v == "null" {
		return true
	}
	_, err := strconv.ParseFloat(v, 64)
	return err == nil
}

// scanTokensIn reports well-known token formats in a header value.
// hostAndPath reports the userinfo of a Host header ("user:password@host",
// which RFC 9110, 4.2.4 forbids a client to send) and the card numbers and
// well-known tokens in the request path, first, so that b, the context
// every secret of the request carries, names the host and path masked.
func (c *httpConn) hostAndPath(b *facts.Secret, m *httpMsg) {
	host := m.get("Host")
	var user, pass string
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		user, pass, _ = strings.Cut(host[:at], ":")
		if pass != "" {
			c.redactions = append(c.redactions, redaction{host[:at+1], unescape(user) + ":" + Mask(unescape(pass)) + "@"})
		}
	}
	path := m.target
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	cards, _ := findCards(path)
	toks, _ := scanTokens(path)
	for _, card := range cards {
		c.redactions = append(c.redactions, redaction{card.text, MaskCard(card.text)})
	}
	for _, t := range toks {
		c.redactions = append(c.redactions, redaction{t.value, MaskToken(t.typ, t.value)})
	}
	if !c.s.cfg.ShowSecrets {
		b.Host, b.Path = c.redact(b.Host), c.redact(b.Path)
	}
	if pass != "" {
		sec := *b
		sec.Kind, sec.Type, sec.Field = KindCredentials, "url-userinfo", "host"
		sec.User, sec.Masked = unescape(user), Mask(unescape(pass))
		c.emit(sec, unescape(pass))
	}
	for _, card := range cards {
		sec := *b
		sec.Kind, sec.Type, sec.Field, sec.Masked = KindCardNumber, "card-"+card.issuer, "path", MaskCard(card.text)
		c.emit(sec, card.text)
	}
	for _, t := range toks {
		sec := *b
		sec.Kind, sec.Type, sec.Field, sec.Masked = KindCredentials, t.typ, "path", MaskToken(t.typ, t.value)
		c.emit(sec, t.value)
	}
}

// headerPairs reads name=value pairs smuggled in a header value (";", ","
// "&" or spaces between them: "Mozilla/5.0 password=hunter2") as form
// fields, so a password or token field is reported wherever it is.
func (c *httpConn) headerPairs(b facts.Secret, name, value string) {
	if !strings.Contains(value, "=") {
		return
	}
	var fs []kv
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == ';' || r == ',' || r == '&' || r == ' ' }) {
		if k, v, ok := strings.Cut(part, "="); ok && k != "" && v != "" && len(fs) < maxFields {
			fs = append(fs, kv{unescape(k), unescape(v)})
		}
	}
	c.fields(b, "header "+name, fs, true)
}

func (c *httpConn) scanTokensIn(b facts.Secret, field, text string) {
	dir := tls.Direction(b.From)
	toks, more := scanTokens(c.scanBound(text, dir))
	c.capHit(more, AnomalyTooManyMatches, dir, "tokens in "+field)
	for _, t := range toks {
		sec := b
		sec.Kind, sec.Type, sec.Field, sec.Masked = KindCredentials, t.typ, field, MaskToken(t.typ, t.value)
		if t.typ == "jwt" {
			sec.Detail, _ = jwtSummary(t.value)
		}
		c.emit(sec, t.value)
	}
}

// scanText looks for well-known tokens, card numbers, e-mail addresses and
// SSNs in free text.
func (c *httpConn) scanText(b facts.Secret, field, text string, pii bool) {
	dir := tls.Direction(b.From)
	text = c.scanBound(text, dir)
	c.scanTokensIn(b, field, text)
	cards, more := findCards(text)
	c.capHit(more, AnomalyTooManyMatches, dir, "card numbers in "+field)
	for _, card := range cards {
		sec := b
		sec.Kind, sec.Type, sec.Field, sec.Masked = KindCardNumber, "card-"+card.issuer, field, MaskCard(card.text)
		c.emit(sec, card.text)
	}
	if !pii {
		return
	}
	emails, more := findEmails(text)
	c.capHit(more, AnomalyTooManyMatches, dir, "e-mail addresses in "+field)
	for _, e := range emails {
		sec := b
		sec.Kind, sec.Type, sec.Field, sec.Masked, sec.Severity = KindPII, "email", field, Mask(e), "low"
		c.emit(sec, e)
	}
	ssns, more := findSSNs(text)
	c.capHit(more, AnomalyTooManyMatches, dir, "SSNs in "+field)
	for _, n := range ssns {
		sec := b
		// Only the last four digits, as US agencies print them.
		sec.Kind, sec.Type, sec.Field, sec.Masked, sec.Severity = KindPII, "us-ssn", field, "***-**-"+n[len(n)-4:], "low"
		c.emit(sec, n)
	}
}

// scanBound is text cut to maxScan bytes, which is enforced here for the
// scans of a stream (scanTokens, findCards, findEmails and findSSNs cut
// at the same length, and so find nothing more to report).
func (c *httpConn) scanBound(text string, dir tls.Direction) string {
	if len(text) > maxScan {
		c.s.truncated(AnomalyScanTruncated, dir, strconv.Itoa(len(text))+" bytes")
		return text[:maxScan]
	}
	return text
}

func (c *httpConn) multipart(b facts.Secret, body []byte, boundary string) {
	if boundary == "" {
		return
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var fs []kv
	for i := 0; ; i++ {
		p, err := r.NextRawPart()
		if err != nil {
			break
		}
		if i == maxParts { // maxParts is enforced here
			c.s.truncated(AnomalyTooManyParts, tls.ClientToServer, "")
			break
		}
		data, _ := io.ReadAll(io.LimitReader(p, int64(c.s.cfg.MaxBody)))
		if p.FileName() != "" {
			if textLike(data) {
				c.scanText(b, "multipart file "+p.FileName(), string(data), false)
			}
			continue
		}
		if len(fs) == maxFields {
			c.capHit(true, AnomalyTooManyFields, tls.ClientToServer, "multipart")
			continue
		}
		fs = append(fs, kv{p.FormName(), string(data)})
	}
	c.fields(b, "multipart", fs, true)
}

// parseForm reads application/x-www-form-urlencoded text (also a query),
// up to maxFields fields (enforced here); more says some were left unread.
func parseForm(s string) (out []kv, more bool) {
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		if len(out) >= maxFields {
			return out, true
		}
		name, val, _ := strings.Cut(part, "=")
		out = append(out, kv{unescape(name), unescape(val)})
	}
	return out, false
}

// capHit reports a limit that dropped data, when it did.
func (c *httpConn) capHit(hit bool, kind string, dir tls.Direction, detail string) {
	if hit {
		c.s.truncated(kind, dir, detail)
	}
}

// json is jsonFields for a body of the stream, reporting the limits it hit.
func (c *httpConn) json(body []byte, dir tls.Direction) []kv {
	fs, more, deep := jsonFields(body)
	c.capHit(more, AnomalyTooManyFields, dir, "json")
	c.capHit(deep, AnomalyJSONTooDeep, dir, "")
	return fs
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// jsonFields flattens a JSON document into named scalar values; nil when
// the body is not JSON. It takes up to maxFields values (more says there
// were others) and walks up to maxJSONDepth levels (deep says values lie
// deeper); both limits are enforced here.
func jsonFields(body []byte) (fields []kv, more, deep bool) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return nil, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, false
	}
	var out []kv
	var walk func(name string, v any, depth int)
	walk = func(name string, v any, depth int) {
		if len(out) >= maxFields {
			more = more || jsonHasValue(v)
			return
		}
		if depth > maxJSONDepth {
			deep = deep || jsonHasValue(v)
			return
		}
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				n := k
				if name != "" {
					n = name + "." + k
				}
				walk(n, x[k], depth+1)
			}
		case []any:
			for _, e := range x {
				walk(name, e, depth+1)
			}
		case string:
			out = append(out, kv{name, x})
		case json.Number:
			out = append(out, kv{name, x.String()})
		}
	}
	walk("", v, 0)
	if out == nil {
		out = []kv{}
	}
	return out, more, deep
}

// jsonHasValue reports whether a decoded JSON value holds a string or a
// number, which jsonFields would take as a field.
func jsonHasValue(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if jsonHasValue(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if jsonHasValue(e) {
				return true
			}
		}
	case string, json.Number:
		return true
	}
	return false
}

func textLike(b []byte) bool {
	n := len(b)
	if n > 512 {
		n = 512
	}
	bad := 0
	for _, c := range b[:n] {
		if c < 0x09 || c > 0x0d && c < 0x20 {
			bad++
		}
	}
	return bad*20 <= n
}

func looksHTML(b []byte) bool {
	t := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html")) || bytes.Contains(t, []byte("<form"))
}

var (
	pwInputRe = regexp.MustCompile(`(?i)<input\b[^>]*?\btype\s*=\s*["']?password\b[^>]*>`)
	nameAttr  = regexp.MustCompile(`(?i)\b(?:name|id)\s*=\s*["']?([^"'\s>]{1,128})`)
	formRe    = regexp.MustCompile(`(?i)<form\b[^>]*>`)
	actionRe  = regexp.MustCompile(`(?i)\baction\s*=\s*["']?([^"'\s>]{0,256})`)
	methodRe  = regexp.MustCompile(`(?i)\bmethod\s*=\s*["']?([A-Za-z]{1,10})`)
)

// loginPage reports an HTML form with a password input served over plain
// HTTP: whatever the user types into it will cross the network readable.
func (c *httpConn) loginPage(b facts.Secret, body []byte) {
	if len(body) > maxScan {
		c.s.truncated(AnomalyScanTruncated, tls.ServerToClient, strconv.Itoa(len(body))+" bytes")
		body = body[:maxScan]
	}
	// Cheap pre-check before the regular expressions.
	if !bytes.Contains(bytes.ToLower(body), []byte("password")) {
		return
	}
	loc := pwInputRe.FindIndex(body)
	if loc == nil {
		return
	}
	forms := formRe.FindAllIndex(body[:loc[0]], -1)
	if forms == nil {
		return
	}
	form := body[forms[len(forms)-1][0]:forms[len(forms)-1][1]]
	sec := b
	sec.From = uint8(tls.ServerToClient)
	sec.Kind, sec.Type, sec.Severity = KindLoginPage, "password-form", "medium"
	if m := nameAttr.FindSubmatch(body[loc[0]:loc[1]]); m != nil {
		sec.Field = "input " + string(m[1])
	} else {
		sec.Field = "input"
	}
	action, method := "", "get"
	if m := actionRe.FindSubmatch(form); m != nil {
		action = sanitizePath(string(m[1]))
	}
	if m := methodRe.FindSubmatch(form); m != nil {
		method = strings.ToLower(string(m[1]))
	}
	sec.Detail = "form method=" + method
	if action != "" {
		sec.Detail += " action=" + action
	}
	if strings.HasPrefix(strings.ToLower(action), "https://") {
		sec.Detail += " (the form posts over HTTPS, but the page itself can be altered in transit)"
	}
	c.s.emitKeyed(sec, "", sec.Host+sec.Path+sec.Detail)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// jwtSummary recognises a JWS compact serialization (RFC 7515, 7.1) and
// describes its header and claims, never the signature.
func jwtSummary(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 && len(parts) != 5 || len(tok) > 16384 {
		return "", false
	}
	dec := func(s string) map[string]any {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		return m
	}
	h := dec(parts[0])
	if h == nil || h["alg"] == nil {
		return "", false
	}
	var b strings.Builder
	for _, k := range []string{"alg", "typ", "kid", "enc"} {
		if v, ok := h[k].(string); ok {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + "=" + clip(v, 40))
		}
	}
	if len(parts) == 5 {
		b.WriteString("; encrypted (JWE)")
		return b.String(), true
	}
	claims := dec(parts[1])
	if claims == nil {
		return b.String(), true
	}
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("; claims:")
	for _, k := range keys {
		b.WriteString(" " + clip(k, 32))
		switch k {
		case "exp", "iat", "nbf", "auth_time":
			if n, ok := claims[k].(float64); ok && n > 0 && n < 1e11 {
				b.WriteString("=" + time.Unix(int64(n), 0).UTC().Format(time.RFC3339))
			}
		case "iss", "sub", "aud", "scope", "azp", "client_id", "name", "preferred_username", "role", "roles":
			switch v := claims[k].(type) {
			case string:
				b.WriteString("=" + strconv.Quote(clip(v, 40)))
			case []any:
				b.WriteString("=[" + strconv.Itoa(len(v)) + " values]")
			}
		}
	}
	return b.String(), true
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func isSchemeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '-' {
			return false
		}
	}
	return true
}

// tokenLike: a value under a token-like name that looks machine-made (no
// spaces; letters and digits mixed, or long) rather than a word a person
// typed into a field called "key".
func tokenLike(v string) bool {
	if len(v) < 8 || isBoolOrNumber(v) || strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	letters, digits := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters = true
		}
	}
	return letters && digits || len(v) >= 20
}
