package cleartext

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// HTTP/1.x (RFC 9112), parsed incrementally: each direction is a small
// state machine that buffers one header block (bounded by maxHeaderBytes)
// and one body (bounded by Config.MaxBody; beyond it the body is framed and
// counted but not kept). Requests and responses pair up in order, which is
// what pipelining guarantees (RFC 9112, 9.3.2).

type httpState uint8

const (
	stHeaders    httpState = iota // reading a start line and headers
	stBody                        // Content-Length body: remaining bytes
	stChunkSize                   // a chunk-size line
	stChunkData                   // remaining bytes of a chunk
	stChunkCRLF                   // the CRLF after chunk data
	stTrailer                     // trailer lines after the last chunk
	stUntilClose                  // a response body delimited by the close
	stBroken                      // gave up on this direction
)

type header struct{ name, value string }

// httpMsg is one request or response being read.
type httpMsg struct {
	request bool
	method  string
	target  string
	version string
	status  int
	headers []header
	// droppedHeaders counts header fields past maxHeaders, not kept.
	droppedHeaders int
	hdrBytes       int64
	body           []byte
	bodySize       int64 // bytes of body on the wire (framing excluded)
	over           bool  // body beyond MaxBody: not all kept
	skip           bool  // a body no detector reads (an image, a script): counted, not kept
	start          time.Time
}

func (m *httpMsg) get(name string) string {
	for _, h := range m.headers {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

type httpDir struct {
	state     httpState
	buf       []byte // header block or chunk line being collected
	scan      int    // where the search for the end of buf resumes
	remaining int64
	msg       *httpMsg
	scratch   []byte // a small body buffer reused from message to message
}

// maxScratch bounds the body buffer a direction keeps between messages;
// larger bodies get their own, freed after analysis.
const maxScratch = 64 << 10

// exchange is a request waiting for its response.
type exchange struct {
	fact   facts.HTTPMessage
	method string
	host   string
	path   string
	last   bool // the client will send no request after this one
}

type httpConn struct {
	s        *Stream
	dir      [2]httpDir
	pending  []*exchange // requests in order, awaiting responses
	cur      *exchange   // the exchange the response being read answers
	finished bool        // nothing more on the connection can be read (see finishEarly)

	redactions []redaction // the values of the secrets found in the request being analysed
}

func newHTTPConn(s *Stream) *httpConn { return &httpConn{s: s} }

func (c *httpConn) feed(dir tls.Direction, data []byte) (startTLS bool) {
	d := &c.dir[dir&1]
	for len(data) > 0 {
		switch d.state {
		case stBroken:
			return false
		case stHeaders:
			n, done := c.collectHeaders(d, dir, data)
			data = data[n:]
			if !done {
				continue
			}
			if up := c.headersDone(d, dir); up {
				c.s.rest = len(data)
				return true
			}
		case stBody:
			n := int64(len(data))
			if n > d.remaining {
				n = d.remaining
			}
			c.keepBody(d, dir, data[:n])
			data = data[n:]
			d.remaining -= n
			if d.remaining == 0 {
				c.messageDone(d, dir)
			}
		case stChunkSize, stTrailer:
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if len(d.buf)+len(data) > maxLine {
					c.chunkLineTooLong(d, dir)
					return false
				}
				d.buf = append(d.buf, data...)
				return false
			}
			if len(d.buf)+i > maxLine {
				c.chunkLineTooLong(d, dir)
				return false
			}
			line := append(d.buf, data[:i]...)
			d.buf = d.buf[:0]
			data = data[i+1:]
			line = bytes.TrimRight(line, "\r")
			if d.state == stTrailer {
				if len(line) == 0 {
					c.messageDone(d, dir)
				}
				continue
			}
			if j := bytes.IndexByte(line, ';'); j >= 0 { // chunk extensions
				line = line[:j]
			}
			size, err := strconv.ParseInt(strings.TrimSpace(string(line)), 16, 64)
			if err != nil || size < 0 {
				c.broken(d, dir, AnomalyHTTPMalformed, "bad chunk size")
				return false
			}
			if size == 0 {
				d.state = stTrailer
			} else {
				d.state, d.remaining = stChunkData, size
			}
		case stChunkData:
			n := int64(len(data))
			if n > d.remaining {
				n = d.remaining
			}
			c.keepBody(d, dir, data[:n])
			data = data[n:]
			d.remaining -= n
			if d.remaining == 0 {
				d.state, d.remaining = stChunkCRLF, 0
			}
		case stChunkCRLF:
			// CRLF (or a bare LF) ends the chunk data.
			switch data[0] {
			case '\r':
				data = data[1:]
			case '\n':
				data = data[1:]
				d.state = stChunkSize
			default:
				c.broken(d, dir, AnomalyHTTPMalformed, "chunk not followed by CRLF")
				return false
			}
		case stUntilClose:
			c.keepBody(d, dir, data)
			data = nil
		}
	}
	return false
}

// collectHeaders appends to the header block until its empty line. It
// returns how many bytes of data it used and whether the block is complete.
func (c *httpConn) collectHeaders(d *httpDir, dir tls.Direction, data []byte) (int, bool) {
	// Empty lines between messages are skipped (RFC 9112, 2.2).
	skipped := 0
	if len(d.buf) == 0 {
		for skipped < len(data) && (data[skipped] == '\r' || data[skipped] == '\n') {
			skipped++
		}
		data = data[skipped:]
		if len(data) == 0 {
			return skipped, false
		}
	}
	start := d.scan
	old := len(d.buf)
	room := maxHeaderBytes - old
	take := data
	if len(take) > room {
		take = take[:room]
	}
	d.buf = append(d.buf, take...)
	end, endLen := headerEnd(d.buf, start)
	if end < 0 {
		if len(d.buf) >= maxHeaderBytes {
			c.s.truncated(AnomalyHeaderTooLong, dir, "")
			c.broken(d, dir, "", "")
			return skipped + len(data), false
		}
		d.scan = max(len(d.buf)-3, 0)
		return skipped + len(take), false
	}
	used := end + endLen - old
	block := d.buf[:end]
	m := parseHead(block, dir == tls.ClientToServer)
	d.buf = d.buf[:0]
	d.scan = 0
	if m == nil {
		c.broken(d, dir, AnomalyHTTPMalformed, "bad start line")
		return skipped + used, false
	}
	if m.droppedHeaders > 0 {
		c.s.truncated(AnomalyTooManyHeaders, dir, strconv.Itoa(m.droppedHeaders)+" header fields past "+strconv.Itoa(maxHeaders))
	}
	m.hdrBytes = int64(end + endLen)
	m.start = c.s.ts
	d.msg = m
	return skipped + used, true
}

// headerEnd finds the empty line ending a header block: CRLFCRLF or LFLF.
func headerEnd(b []byte, from int) (int, int) {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 1, 1
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 1, 2
		}
	}
	return -1, 0
}

// parseHead reads a start line and header fields.
func parseHead(block []byte, request bool) *httpMsg {
	lines := strings.Split(string(block), "\n")
	first := strings.TrimRight(lines[0], "\r")
	m := &httpMsg{request: request}
	parts := strings.SplitN(first, " ", 3)
	if request {
		if len(parts) < 3 || !strings.HasPrefix(parts[2], "HTTP/") || !isToken(parts[0]) {
			// A reply arriving on the client side, or garbage.
			return nil
		}
		m.method, m.target, m.version = parts[0], parts[1], parts[2]
	} else {
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") {
			return nil
		}
		st, err := strconv.Atoi(parts[1])
		if err != nil || st < 100 || st > 999 {
			return nil
		}
		m.version, m.status = parts[0], st
	}
	// obs-fold continuation lines (RFC 9112, 5.2) of the last header,
	// joined once it ends: appending each to the value would copy it
	// every time, quadratic in the number of lines.
	var folds []string
	unfold := func() {
		if len(folds) > 0 {
			h := &m.headers[len(m.headers)-1]
			h.value = strings.Join(append([]string{h.value}, folds...), " ")
			folds = folds[:0]
		}
	}
	defer unfold()
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(m.headers) > 0 { // obs-fold
			folds = append(folds, strings.TrimSpace(l))
			continue
		}
		unfold()
		i := strings.IndexByte(l, ':')
		if i <= 0 {
			continue
		}
		if len(m.headers) >= maxHeaders { // maxHeaders is enforced here
			m.droppedHeaders++
			continue
		}
		m.headers = append(m.headers, header{strings.TrimSpace(l[:i]), strings.TrimSpace(l[i+1:])})
	}
	return m
}

func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' && s[i] != '-' && s[i] != '_' {
			return false
		}
	}
	return true
}

// headersDone decides how the body is framed (RFC 9112, 6.3) and analyses
// messages without one. It returns true when a CONNECT tunnel opened.
func (c *httpConn) headersDone(d *httpDir, dir tls.Direction) bool {
	m := d.msg
	if m.request {
		ex := &exchange{method: m.method}
		ex.host = m.get("Host")
		ex.path = m.target
		ex.fact = facts.HTTPMessage{Time: m.start, Method: m.method, Host: ex.host, Path: sanitizePath(m.target),
			Version: m.version, ContentType: m.get("Content-Type"), UserAgent: m.get("User-Agent")}
		// RFC 9112, 9.6 and 9.3: a client that sends "close", or speaks
		// HTTP/1.0 without keep-alive, sends no further request.
		conn := m.get("Connection")
		ex.last = hasToken(conn, "close") || m.version == "HTTP/1.0" && !hasToken(conn, "keep-alive")
		if len(c.pending) >= maxPipelined {
			c.report(c.pending[0])
			c.pending = c.pending[1:]
			c.s.truncated(AnomalyTooManyPipelined, dir, "")
		}
		c.pending = append(c.pending, ex)
	} else {
		if m.status >= 200 || m.status == 101 {
			if len(c.pending) > 0 {
				c.cur = c.pending[0]
				c.pending = c.pending[1:]
			} else {
				c.cur = nil
			}
		}
	}
	if !m.request {
		// Only HTML (login forms) and JSON (tokens) response bodies are
		// read; unlabelled ones are sniffed.
		ct := strings.ToLower(m.get("Content-Type"))
		m.skip = ct != "" && !strings.Contains(ct, "html") && !strings.Contains(ct, "json")
	}
	te := strings.ToLower(m.get("Transfer-Encoding"))
	cl := m.get("Content-Length")
	switch {
	case !m.request && (m.status < 200 || m.status == 204 || m.status == 304):
		if m.status == 101 { // protocol switch: nothing more is HTTP
			c.messageDone(d, dir)
			c.stop()
			return false
		}
		c.messageDone(d, dir)
	case !m.request && c.cur != nil && c.cur.method == "HEAD":
		c.messageDone(d, dir)
	case !m.request && c.cur != nil && c.cur.method == "CONNECT" && m.status < 300:
		// RFC 9110, 9.3.6: a 2xx to CONNECT opens a tunnel to the
		// request target (authority-form, host:port).
		c.s.target = c.cur.path
		if c.s.target == "" {
			c.s.target = "?"
		}
		c.messageDone(d, dir)
		c.stop()
		return true
	case strings.Contains(te, "chunked"):
		d.state = stChunkSize
	case cl != "":
		n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
		if err != nil || n < 0 {
			c.broken(d, dir, AnomalyHTTPMalformed, "bad Content-Length")
			return false
		}
		if n == 0 {
			c.messageDone(d, dir)
		} else if !c.finishEarly(d, n) {
			d.state, d.remaining = stBody, n
		}
	case m.request:
		c.messageDone(d, dir)
	default:
		d.state = stUntilClose
	}
	return false
}

// finishEarly ends the connection's parsing at the headers of a response
// whose body of n bytes would not be read (not HTML or JSON), when it is
// the answer to the client's last request (see exchange.last) and nothing
// else is outstanding: nothing that follows on the connection can be
// parsed, so the caller may stop feeding it (Stream.Done). The exchange
// is reported with the body's declared length.
func (c *httpConn) finishEarly(d *httpDir, n int64) bool {
	client := &c.dir[tls.ClientToServer]
	if !d.msg.skip || d.msg.status < 200 || c.cur == nil || !c.cur.last || len(c.pending) > 0 ||
		client.state != stHeaders || client.msg != nil || len(client.buf) > 0 {
		return false
	}
	d.msg.bodySize = n
	c.messageDone(d, tls.ServerToClient)
	c.stop()
	c.finished = true
	return true
}

// hasToken reports whether a comma-separated header value lists token
// (case-insensitive), as in "Connection: keep-alive, Close".
func hasToken(value, token string) bool {
	for value != "" {
		var t string
		t, value, _ = strings.Cut(value, ",")
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

func (c *httpConn) keepBody(d *httpDir, dir tls.Direction, b []byte) {
	m := d.msg
	if m == nil {
		return
	}
	m.bodySize += int64(len(b))
	if m.over || m.skip {
		return
	}
	if m.body == nil {
		m.body = d.scratch[:0]
	}
	room := c.s.cfg.MaxBody - len(m.body)
	if len(b) > room {
		b = b[:room]
		m.over = true
		c.s.truncated(AnomalyBodyOverLimit, dir, "")
	}
	m.body = append(m.body, b...)
}

// messageDone analyses a complete message and readies the direction for
// the next one.
func (c *httpConn) messageDone(d *httpDir, dir tls.Direction) {
	m := d.msg
	d.state, d.msg, d.remaining = stHeaders, nil, 0
	if m == nil {
		return
	}
	defer func() {
		// The body was analysed (secrets hold copies): reuse its buffer.
		if cap(m.body) <= maxScratch && cap(m.body) > cap(d.scratch) {
			d.scratch = m.body[:0]
		}
	}()
	if m.request {
		var ex *exchange
		if n := len(c.pending); n > 0 {
			ex = c.pending[n-1]
			ex.fact.RequestBytes = m.hdrBytes + m.bodySize
		}
		c.analyzeRequest(m, ex)
		if ex != nil && c.dir[tls.ServerToClient].state == stBroken {
			// No response can be paired any more: report it now.
			c.report(ex)
			c.pending = c.pending[:len(c.pending)-1]
		}
		return
	}
	ex := c.cur
	c.analyzeResponse(m, ex)
	if m.status >= 200 || m.status == 101 {
		if ex != nil {
			ex.fact.Status = m.status
			ex.fact.ResponseBytes = m.hdrBytes + m.bodySize
			if ct := m.get("Content-Type"); ct != "" {
				ex.fact.ContentType = ct
			}
			c.report(ex)
		}
		c.cur = nil
	}
}

func (c *httpConn) report(ex *exchange) {
	if c.s.h.HTTP != nil {
		c.s.h.HTTP(ex.fact)
	}
}

// chunkLineTooLong: a chunk-size or trailer line over maxLine (enforced
// here) ends parsing of the direction.
func (c *httpConn) chunkLineTooLong(d *httpDir, dir tls.Direction) {
	c.s.truncated(AnomalyChunkLineTooLong, dir, "")
	c.broken(d, dir, "", "")
}

func (c *httpConn) broken(d *httpDir, dir tls.Direction, kind, detail string) {
	if kind != "" {
		c.s.anomaly(kind, dir, detail)
	}
	d.state, d.msg, d.buf = stBroken, nil, nil
}

// stop ends HTTP parsing in both directions (a protocol switch).
func (c *httpConn) stop() {
	for i := range c.dir {
		c.dir[i].state, c.dir[i].msg, c.dir[i].buf = stBroken, nil, nil
	}
}

// gap: bytes were lost. The direction cannot be framed any more, and
// request/response pairing is lost with it.
func (c *httpConn) gap(dir tls.Direction) {
	d := &c.dir[dir&1]
	if d.state == stUntilClose {
		d.msg.over = true // analyse what was kept at close, but it is partial
	}
	if d.state != stBroken {
		c.broken(d, dir, "", "")
	}
}

func (c *httpConn) close() {
	d := &c.dir[tls.ServerToClient]
	if d.state == stUntilClose && d.msg != nil {
		c.messageDone(d, tls.ServerToClient)
	}
	for _, ex := range c.pending {
		c.report(ex)
	}
	c.pending = nil
	if c.cur != nil {
		c.report(c.cur)
		c.cur = nil
	}
}

// sanitizePath keeps a request target's path and query names, dropping the
// query values and any userinfo, so it can be printed safely.
func sanitizePath(target string) string {
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		slash := strings.IndexByte(rest, '/')
		auth := rest
		if slash >= 0 {
			auth = rest[:slash]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			target = target[:i+3] + rest[at+1:]
		}
	}
	q := strings.IndexByte(target, '?')
	if q < 0 {
		return target
	}
	var b strings.Builder
	b.WriteString(target[:q+1])
	frag := ""
	query := target[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
		_ = frag
	}
	for i, kv := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		if e := strings.IndexByte(kv, '='); e >= 0 {
			b.WriteString(kv[:e+1])
		} else {
			b.WriteString(kv)
		}
	}
	return b.String()
}
