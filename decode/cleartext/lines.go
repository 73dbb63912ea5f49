package cleartext

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// The line-oriented protocols: FTP (RFC 959, RFC 4217 for AUTH TLS), SMTP
// (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH), POP3 (RFC 1939, RFC 2595
// STLS, RFC 5034 AUTH), IMAP (RFC 9051, STARTTLS and AUTHENTICATE) and
// Telnet (RFC 854) logins. Each direction is split into lines (bounded by
// maxLine); client lines are commands, server lines are replies that
// complete a STARTTLS or a SASL exchange.

type lineDir struct {
	buf      []byte
	skipping bool  // a line over maxLine: dropped up to its end
	literal  int64 // IMAP literal bytes still to read into buf
	discard  int64 // bytes to drop unread (SMTP BDAT, oversized IMAP literals)
}

// saslState follows one SASL exchange (RFC 4422) carried by SMTP AUTH,
// POP3 AUTH or IMAP AUTHENTICATE.
type saslState struct {
	active bool
	mech   string
	step   int
	user   string
	field  string
}

type lineConn struct {
	s       *Stream
	proto   Protocol
	dir     [2]lineDir
	user    string
	tlsTag  string // the command that asked for TLS, awaiting the reply ("" none)
	sasl    saslState
	inData  bool // SMTP DATA: client lines are message text up to "."
	telnet  telnetState
	anonFTP bool
	adapted bool // the first client command was seen (see adapt)
}

func newLineConn(s *Stream, p Protocol) *lineConn { return &lineConn{s: s, proto: p} }

func (c *lineConn) feed(dir tls.Direction, data []byte) bool {
	if c.proto == Telnet {
		c.telnetFeed(dir, data)
		return false
	}
	d := &c.dir[dir&1]
	for len(data) > 0 {
		if d.discard > 0 {
			n := min(int64(len(data)), d.discard)
			d.discard -= n
			data = data[n:]
			continue
		}
		if d.literal > 0 {
			n := min(int64(len(data)), d.literal)
			d.buf = append(d.buf, data[:n]...)
			d.literal -= n
			data = data[n:]
			continue
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if d.skipping {
				return false
			}
			if len(d.buf)+len(data) > maxLine {
				c.s.truncated(AnomalyLineTooLong, dir, string(c.proto))
				d.buf, d.skipping = d.buf[:0], true
				return false
			}
			d.buf = append(d.buf, data...)
			return false
		}
		chunk := data[:i]
		data = data[i+1:]
		if d.skipping {
			d.skipping = false
			continue
		}
		if len(d.buf)+len(chunk) > maxLine {
			c.s.truncated(AnomalyLineTooLong, dir, string(c.proto))
			d.buf = d.buf[:0]
			continue
		}
		d.buf = append(d.buf, chunk...)
		// An IMAP literal announced at the end of a client line: its bytes
		// (and the rest of the command after them) belong to this line.
		if c.proto == IMAP && dir == tls.ClientToServer {
			if n, ok := literalLen(d.buf); ok {
				if n > maxLine-int64(len(d.buf)) {
					// Too long to be a login's (an APPEND's message, say):
					// skipped, with the command it belongs to.
					c.s.truncated(AnomalyLiteralTooLong, dir, strconv.FormatInt(n, 10)+" bytes")
					d.discard = n
					d.buf = d.buf[:0]
					continue
				}
				d.buf = append(d.buf, '\n')
				d.literal = n
				continue
			}
		}
		line := string(bytes.TrimRight(d.buf, "\r"))
		d.buf = d.buf[:0]
		var up bool
		if dir == tls.ClientToServer {
			c.clientLine(line)
		} else {
			up = c.serverLine(line)
		}
		if up {
			c.s.rest = len(data)
			return true
		}
	}
	return false
}

// literalLen reads an IMAP literal announcement, "{n}" or "{n+}", at the
// end of a line (RFC 9051, 4.3; RFC 7888).
func literalLen(b []byte) (int64, bool) {
	b = bytes.TrimRight(b, "\r")
	if len(b) < 3 || b[len(b)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(b, '{')
	if i < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(string(b[i+1:len(b)-1]), "+")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func (c *lineConn) gap(dir tls.Direction) {
	d := &c.dir[dir&1]
	d.buf, d.literal, d.discard = d.buf[:0], 0, 0
	d.skipping = true // the rest of the current line is lost
	c.sasl = saslState{}
	c.telnet.line, c.telnet.over = c.telnet.line[:0], false
}

func (c *lineConn) secret(typ, field, user, value, masked, detail, severity string) {
	c.s.emit(facts.Secret{Kind: KindCredentials, Type: typ, Field: field, User: user, Masked: masked,
		Detail: detail, Severity: severity, From: uint8(tls.ClientToServer)}, value)
}

func (c *lineConn) clientLine(line string) {
	if c.inData {
		if line == "." {
			c.inData = false
		}
		return
	}
	if c.sasl.active {
		c.saslResponse(line)
		return
	}
	cmd, arg, _ := strings.Cut(line, " ")
	if c.proto == IMAP {
		tag := cmd
		cmd, arg, _ = strings.Cut(arg, " ")
		c.imapCommand(tag, strings.ToUpper(cmd), arg)
		return
	}
	cmd = strings.ToUpper(strings.TrimSpace(cmd))
	arg = strings.TrimSpace(arg)
	c.adapt(cmd)
	switch cmd {
	case "USER":
		c.user = arg
		if c.proto == FTP {
			u := strings.ToLower(arg)
			c.anonFTP = u == "anonymous" || u == "ftp"
		}
	case "PASS":
		if c.proto != FTP && c.proto != POP3 {
			return
		}
		if c.anonFTP {
			// RFC 1635: an anonymous login's "password" is an e-mail address.
			c.secret("password", "PASS", c.user, arg, Mask(arg), "anonymous FTP login", "info")
			return
		}
		c.secret("password", "PASS", c.user, arg, Mask(arg), "", "")
	case "APOP": // RFC 1939, 7: an MD5 digest of a shared secret
		user, digest, _ := strings.Cut(arg, " ")
		c.secret("apop", "APOP", user, digest, MaskToken("apop-digest", digest), "MD5 challenge-response, crackable offline", "info")
	case "AUTH":
		mech, ir, _ := strings.Cut(arg, " ")
		mech = strings.ToUpper(mech)
		if c.proto == FTP {
			// RFC 4217, 4: AUTH TLS (or the older SSL, TLS-C, TLS-P).
			switch mech {
			case "TLS", "SSL", "TLS-C", "TLS-P":
				c.tlsTag = "AUTH " + mech
			}
			return
		}
		if mech == "" {
			return // POP3 "AUTH" lists mechanisms
		}
		c.startSASL(mech, "AUTH "+mech, strings.TrimSpace(ir))
	case "STARTTLS":
		switch c.proto {
		case SMTP, IRC, NNTP, Sieve:
			c.tlsTag = "STARTTLS"
		}
	case "AUTHINFO": // RFC 4643, 2.3: AUTHINFO USER name, AUTHINFO PASS password
		if c.proto != NNTP {
			return
		}
		sub, val, _ := strings.Cut(arg, " ")
		switch strings.ToUpper(sub) {
		case "USER":
			c.user = val
		case "PASS":
			c.secret("password", "AUTHINFO PASS", c.user, val, Mask(val), "", "")
		}
	case "AUTHENTICATE": // RFC 5804, 2.1: AUTHENTICATE "PLAIN" "base64"
		if c.proto != Sieve {
			return
		}
		f := strings.Fields(arg)
		if len(f) >= 1 {
			mech := strings.ToUpper(strings.Trim(f[0], `"`))
			ir := ""
			if len(f) >= 2 {
				ir = strings.Trim(f[1], `"`)
			}
			c.startSASL(mech, "AUTHENTICATE "+mech, ir)
		}
	case "STLS":
		if c.proto == POP3 {
			c.tlsTag = "STLS"
		}
	case "DATA":
		if c.proto == SMTP {
			c.inData = true // ended by "." alone; a refused DATA is rare enough
		}
	case "BDAT": // RFC 3030: a chunk of n octets follows the command line
		if c.proto == SMTP {
			f := strings.Fields(arg)
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > 0 {
					c.dir[tls.ClientToServer].discard = n
				}
			}
		}
	}
}

func (c *lineConn) imapCommand(tag, cmd, arg string) {
	switch cmd {
	case "LOGIN": // RFC 9051, 6.2.3: LOGIN userid password
		args := imapArgs(arg, 2)
		if len(args) < 2 {
			return
		}
		c.user = args[0]
		c.secret("password", "LOGIN", args[0], args[1], Mask(args[1]), "", "")
	case "AUTHENTICATE":
		mech, ir, _ := strings.Cut(arg, " ")
		c.startSASL(strings.ToUpper(mech), "AUTHENTICATE "+strings.ToUpper(mech), strings.TrimSpace(ir))
		c.tlsTag = ""
	case "STARTTLS":
		c.tlsTag = tag
	}
}

// imapArgs reads up to n astrings: atoms, quoted strings and literals.
func imapArgs(s string, n int) []string {
	var out []string
	for len(out) < n {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		switch s[0] {
		case '"':
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			out = append(out, b.String())
			s = s[min(i+1, len(s)):]
		case '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return out
			}
			num, err := strconv.Atoi(strings.TrimSuffix(s[1:end], "+"))
			rest := strings.TrimPrefix(strings.TrimPrefix(s[end+1:], "\r"), "\n")
			if err != nil || num < 0 || num > len(rest) {
				return out
			}
			out = append(out, rest[:num])
			s = rest[num:]
		default:
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			out = append(out, s[:end])
			s = s[end:]
		}
	}
	return out
}

func (c *lineConn) startSASL(mech, field, ir string) {
	c.sasl = saslState{active: true, mech: mech, field: field}
	// An initial response on the command line (RFC 4954, RFC 4959, RFC
	// 5034); "=" is an empty one.
	if ir != "" && ir != "=" {
		c.saslResponse(ir)
	}
}

// saslResponse reads one client response of the exchange.
func (c *lineConn) saslResponse(line string) {
	line = strings.TrimSpace(line)
	if line == "*" { // the client cancels
		c.sasl = saslState{}
		return
	}
	raw, err := decodeBase64(line)
	if err != nil {
		return
	}
	st := &c.sasl
	defer func() { st.step++ }()
	switch st.mech {
	case "PLAIN": // RFC 4616: [authzid] NUL authcid NUL passwd
		parts := strings.SplitN(string(raw), "\x00", 3)
		if len(parts) != 3 {
			return
		}
		user := parts[1]
		if user == "" {
			user = parts[0]
		}
		c.user = user
		c.secret("sasl-plain", st.field, user, parts[2], Mask(parts[2]), "", "")
		st.active = false
	case "LOGIN": // draft-murchison-sasl-login: user name, then password
		if st.step == 0 {
			st.user = string(raw)
			c.user = st.user
			return
		}
		if st.step == 1 {
			c.secret("sasl-login", st.field, st.user, string(raw), Mask(string(raw)), "", "")
			st.active = false
		}
	case "CRAM-MD5": // RFC 2195: "user hexdigest"
		user, digest, _ := strings.Cut(string(raw), " ")
		c.secret("cram-md5", st.field, user, digest, MaskToken("cram-md5", digest), "HMAC-MD5 challenge-response, crackable offline", "info")
		st.active = false
	case "XOAUTH2", "OAUTHBEARER": // RFC 7628: ...auth=Bearer <token>^A...
		var user, tok string
		for _, kv := range strings.FieldsFunc(string(raw), func(r rune) bool { return r == 1 || r == ',' }) {
			switch {
			case strings.HasPrefix(kv, "user="):
				user = kv[5:]
			case strings.HasPrefix(kv, "a="):
				user = kv[2:]
			case strings.HasPrefix(strings.ToLower(kv), "auth=bearer "):
				tok = kv[12:]
			}
		}
		if tok != "" {
			typ := "oauth-bearer"
			detail := ""
			if d, ok := jwtSummary(tok); ok {
				typ, detail = "jwt", d
			}
			c.secret(typ, st.field, user, tok, MaskToken(typ, tok), detail, "")
		}
		st.active = false
	case "NTLM":
		if n, ok := parseNTLM(raw); ok {
			c.secret("ntlm", st.field, n.user, line, MaskToken("ntlm-response", string(n.response)), n.detail, "")
			st.active = false
		}
	default:
		// SCRAM, DIGEST-MD5, GSSAPI, EXTERNAL: no reusable secret crosses.
		st.active = false
	}
}

// serverLine reads a reply: it ends SASL exchanges and accepts or refuses
// a request for TLS. It returns true when TLS follows.
func (c *lineConn) serverLine(line string) bool {
	switch c.proto {
	case FTP, SMTP:
		if len(line) < 3 || line[0] < '1' || line[0] > '5' {
			return false
		}
		last := len(line) == 3 || line[3] == ' ' // "250-" continues a reply
		if !last {
			return false
		}
		code := line[:3]
		if c.tlsTag != "" {
			ok := c.proto == FTP && code == "234" || c.proto == SMTP && code[0] == '2'
			c.tlsTag = ""
			return ok
		}
		if c.sasl.active && code != "334" {
			c.sasl = saslState{}
		}
		if c.proto == SMTP && c.inData && code[0] != '3' && code != "250" {
			c.inData = false // DATA refused
		}
	case POP3:
		switch {
		case strings.HasPrefix(line, "+OK"):
			if c.tlsTag != "" {
				c.tlsTag = ""
				return true
			}
			c.sasl = saslState{}
		case strings.HasPrefix(line, "-ERR"):
			c.tlsTag = ""
			c.sasl = saslState{}
		}
	case NNTP:
		if c.tlsTag != "" && len(line) >= 3 {
			c.tlsTag = ""
			return line[:3] == "382" // RFC 4642, 2.2.2: continue with TLS negotiation
		}
		if c.sasl.active {
			c.sasl = saslState{}
		}
	case Sieve:
		if c.tlsTag != "" {
			up := strings.HasPrefix(strings.ToUpper(line), "OK")
			if up || strings.HasPrefix(strings.ToUpper(line), "NO") || strings.HasPrefix(strings.ToUpper(line), "BYE") {
				c.tlsTag = ""
				return up
			}
		}
		if c.sasl.active && !strings.HasPrefix(line, `"`) {
			c.sasl = saslState{}
		}
	case IRC:
		// IRCv3 tls: RPL_STARTTLS 670 accepts, ERR_STARTTLS 691 refuses.
		if c.tlsTag != "" && strings.HasPrefix(line, ":") {
			switch firstWord([]byte(line), 1) {
			case "670":
				c.tlsTag = ""
				return true
			case "691":
				c.tlsTag = ""
			}
		}
	case IMAP:
		tag, rest, _ := strings.Cut(line, " ")
		if tag == "*" || tag == "+" || tag == "" {
			return false
		}
		status, _, _ := strings.Cut(rest, " ")
		if c.tlsTag != "" && tag == c.tlsTag {
			c.tlsTag = ""
			return strings.EqualFold(status, "OK")
		}
		c.sasl = saslState{}
	}
	return false
}

// adapt settles a "220" greeting that Sniff could not tell apart (FTP and
// SMTP servers both greet with 220) by the client's first command.
func (c *lineConn) adapt(cmd string) {
	if c.adapted || c.proto != FTP && c.proto != SMTP {
		return
	}
	c.adapted = true
	switch cmd {
	case "EHLO", "HELO", "MAIL":
		c.proto = SMTP
	case "USER", "FEAT", "SYST", "OPTS":
		c.proto = FTP
	}
	c.s.proto = c.proto
}
