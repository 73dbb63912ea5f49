// Package ladder draws one connection as a terminal ladder diagram: the
// client on the left, the server on the right, one arrow per message seen
// on the wire (TLS records from tls.Session.Events in time order, and for
// cleartext connections the HTTP requests and the secrets found), each
// with its time relative to the first message and the facts that matter
// on it, and the findings attached to the message that caused them.
//
// It reads facts and findings only; it decodes nothing and judges
// nothing. Secrets are printed masked unless Options.ShowSecrets is set.
package ladder

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/report"
)

// Options shape the drawing.
type Options struct {
	Color       bool // ANSI colours (the CLI sets it when stdout is a terminal)
	Width       int  // columns to fit (0: 80; never narrower than MinWidth)
	ShowSecrets bool // print a secret's Value instead of its masked form
}

// DefaultWidth is the width used when Options.Width is 0; MinWidth is the
// narrowest drawing.
const (
	DefaultWidth = 80
	MinWidth     = 50
)

// Arrow kinds: what an arrow stands for. Tests compare the sequence of
// kinds with tshark's view of the same connection.
const (
	KindHandshake          = "handshake"           // a readable handshake message
	KindEncryptedHandshake = "encrypted_handshake" // TLS <= 1.2 Finished, after ChangeCipherSpec
	KindHidden             = "hidden"              // TLS 1.3 encrypted handshake records
	KindChangeCipherSpec   = "change_cipher_spec"
	KindAlert              = "alert"
	KindAppData            = "application_data"
	KindHeartbeat          = "heartbeat"
	KindHTTPRequest        = "http_request"
	KindHTTPResponse       = "http_response"
	KindSecret             = "secret" // a cleartext secret outside HTTP
)

// Arrow is one message of the diagram. Tests read it; Write draws it.
type Arrow struct {
	Time      time.Time
	Untimed   bool // Time is borrowed for ordering (an HTTP response): not printed
	From      tls.Direction
	Kind      string
	Handshake uint8 // handshake type for KindHandshake
	Label     string
	Details   []string
	Findings  []facts.Finding
	Secrets   []string // lines about secrets, already masked
	Records   int      // records merged into this arrow (KindHidden)
	alert     bool     // a fatal or unreadable alert: drawn in red
}

// Arrows builds the diagram's arrows for c, in time order, with each
// finding attached to the arrow of its Step; the findings that match no
// arrow are returned apart.
func Arrows(c *facts.Connection, findings []facts.Finding, showSecrets bool) (arrows []Arrow, unattached []facts.Finding) {
	if c.TLS != nil {
		arrows = tlsArrows(c.TLS, c.Certificates, c.ClientCertificates)
	}
	arrows = append(arrows, cleartextArrows(c, showSecrets)...)
	slices.SortStableFunc(arrows, func(a, b Arrow) int { return a.Time.Compare(b.Time) })
	for _, f := range findings {
		if i := attach(arrows, f); i >= 0 {
			arrows[i].Findings = append(arrows[i].Findings, f)
		} else {
			unattached = append(unattached, f)
		}
	}
	for i := range arrows {
		report.SortFindings(arrows[i].Findings)
	}
	report.SortFindings(unattached)
	return arrows, unattached
}

// tlsArrows turns the session's events into arrows.
func tlsArrows(s *tls.Session, chain, clientChain []facts.Certificate) []Arrow {
	var out []Arrow
	var nCH, nSH, nAlert int
	for _, e := range s.Events {
		a := Arrow{Time: e.Time, From: e.From}
		switch {
		case e.Content == tls.ContentHandshake && e.Encrypted:
			a.Kind, a.Label = KindEncryptedHandshake, "Finished (encrypted)"
		case e.Content == tls.ContentHandshake:
			a.Kind, a.Handshake = KindHandshake, e.Handshake
			a.Label = messageName(e.Handshake)
			switch e.Handshake {
			case tls.TypeClientHello:
				ch := s.ClientHello
				if nCH == 0 && s.FirstClientHello != nil {
					ch = s.FirstClientHello
				}
				nCH++
				if ch != nil && ch.SSLv2 {
					a.Label = "ClientHello (SSLv2 format)"
				}
				a.Details = clientHelloDetails(ch)
			case tls.TypeServerHello:
				if nSH == 0 && s.HelloRetry != nil {
					a.Label = "HelloRetryRequest"
					a.Details = hrrDetails(s.HelloRetry)
				} else {
					a.Details = serverHelloDetails(s)
				}
				nSH++
			case tls.TypeCertificate:
				if e.From == tls.ServerToClient {
					a.Details = certDetails(chain, s.CertificateErrors)
				} else {
					a.Details = certDetails(clientChain, 0)
				}
			case tls.TypeServerKeyExchange:
				a.Details = kxDetails(s.KeyExchange)
			}
		case e.Content == tls.ContentChangeCipherSpec:
			a.Kind, a.Label = KindChangeCipherSpec, "ChangeCipherSpec"
			if s.Hidden {
				a.Label += " (compatibility)"
			}
		case e.Content == tls.ContentAlert:
			a.Kind, a.Label, a.alert = KindAlert, "Alert (encrypted)", true
			if nAlert < len(s.Alerts) {
				al := s.Alerts[nAlert]
				if !al.Encrypted {
					a.Label = fmt.Sprintf("Alert %s %s", alertLevel(al.Level), tls.AlertName(al.Description))
					a.alert = al.Level != tls.AlertLevelWarning
				}
			}
			nAlert++
		case e.Content == tls.ContentApplicationData && e.Hidden13 != tls.NotHidden13:
			// RFC 8446, 5.2: after ServerHello every record is
			// application_data on the outside; decode/tls says which
			// carry the rest of the handshake, up to and including the
			// client's Finished flight.
			if n := len(out); n > 0 && out[n-1].Kind == KindHidden && out[n-1].From == e.From {
				out[n-1].Records++
				out[n-1].Details = []string{hiddenDetail(out[n-1].Records)}
				continue
			}
			a.Kind, a.Label, a.Records = KindHidden, "encrypted handshake (hidden)", 1
			a.Details = []string{hiddenDetail(1)}
		case e.Content == tls.ContentApplicationData:
			a.Kind, a.Label = KindAppData, "application data"
			if !e.Encrypted {
				a.Label = "application data (NULL cipher, readable)"
			}
			a.Details = []string{fmt.Sprintf("%s this way in all", report.ByteSize(s.AppData[e.From&1]))}
		case e.Content == tls.ContentHeartbeat:
			a.Kind, a.Label = KindHeartbeat, "Heartbeat"
		default:
			a.Kind, a.Label = KindHandshake, fmt.Sprintf("record type %d", e.Content)
			if e.Handshake == tls.TypeClientHello || e.Handshake == tls.TypeServerHello {
				a.Handshake = e.Handshake
				a.Label = "SSLv2 " + map[uint8]string{1: "CLIENT-HELLO", 2: "SERVER-HELLO"}[e.Handshake]
			}
		}
		out = append(out, a)
	}
	return out
}

func hiddenDetail(n int) string {
	if n == 1 {
		return "1 record (TLS 1.3: contents not visible)"
	}
	return fmt.Sprintf("%d records (TLS 1.3: contents not visible)", n)
}

// messageName turns a registry name (server_hello_done) into the name
// people know the message by (ServerHelloDone).
func messageName(t uint8) string {
	n := tls.HandshakeTypeName(t)
	if strings.HasPrefix(n, "0x") {
		return "handshake " + n
	}
	var b strings.Builder
	for p := range strings.SplitSeq(n, "_") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

func alertLevel(l uint8) string {
	switch l {
	case tls.AlertLevelWarning:
		return "warning"
	case tls.AlertLevelFatal:
		return "fatal"
	}
	return fmt.Sprintf("level %d", l)
}

func names(ids []uint16, name func(uint16) string) []string {
	var out []string
	for _, v := range ids {
		if !tls.IsGREASE(v) {
			out = append(out, name(v))
		}
	}
	return out
}

func clientHelloDetails(ch *tls.ClientHello) []string {
	if ch == nil {
		return nil
	}
	vs := names(ch.SupportedVersions, tls.VersionName)
	if len(vs) == 0 {
		vs = []string{"up to " + tls.VersionName(ch.LegacyVersion)}
	}
	suites := 0
	for _, s := range ch.CipherSuites {
		if !tls.IsGREASE(s) {
			suites++
		}
	}
	if ch.SSLv2 {
		suites += ch.SSLv2OnlyKinds
	}
	d := []string{fmt.Sprintf("offers %s; %d suites", strings.Join(vs, ", "), suites)}
	sni := "SNI " + ch.ServerName
	if ch.ServerName == "" {
		sni = "no SNI"
	}
	line := sni
	if len(ch.ALPNProtocols) > 0 {
		line += "; ALPN " + strings.Join(ch.ALPNProtocols, ", ")
	}
	d = append(d, line)
	var extra []string
	if ks := names(ch.KeyShareGroups, tls.GroupName); len(ks) > 0 {
		extra = append(extra, "key share "+strings.Join(ks, ", "))
	}
	if ch.PreSharedKey {
		extra = append(extra, "PSK offered")
	} else if ch.SessionTicketLen > 0 {
		extra = append(extra, fmt.Sprintf("session ticket offered (%d bytes)", ch.SessionTicketLen))
	} else if len(ch.SessionID) > 0 && len(ch.SupportedVersions) == 0 {
		extra = append(extra, "session id offered")
	}
	if ch.EarlyData {
		extra = append(extra, "early data")
	}
	if len(extra) > 0 {
		d = append(d, strings.Join(extra, "; "))
	}
	return d
}

func hrrDetails(h *tls.ServerHello) []string {
	d := "server asks the client to retry"
	if h.KeyShareGroup != 0 {
		d += " with key share " + tls.GroupName(h.KeyShareGroup)
	}
	return []string{d}
}

func serverHelloDetails(s *tls.Session) []string {
	sh := s.ServerHello
	if sh == nil {
		return nil
	}
	cipher, _ := s.Cipher()
	d := []string{tls.VersionName(sh.Version()) + ", " + cipher}
	var extra []string
	if sh.ALPNProtocol != "" {
		extra = append(extra, "ALPN "+sh.ALPNProtocol)
	}
	if sh.KeyShareGroup != 0 {
		extra = append(extra, "key share "+tls.GroupName(sh.KeyShareGroup))
	}
	if s.Resumed {
		extra = append(extra, "resumed ("+resumption(s.Resumption)+")")
	}
	if len(extra) > 0 {
		d = append(d, strings.Join(extra, "; "))
	}
	return d
}

func resumption(r string) string {
	switch r {
	case "session_id":
		return "session id"
	case "":
		return "unknown"
	}
	return r
}

func certDetails(chain []facts.Certificate, unparsed int) []string {
	var d []string
	if len(chain) > 0 {
		leaf := chain[0]
		d = append(d, fmt.Sprintf("subject %s; issuer %s", commonName(leaf.SubjectCN, leaf.DNSNames, leaf.Subject),
			commonName(leaf.IssuerCN, nil, leaf.Issuer)))
		d = append(d, fmt.Sprintf("valid %s to %s", leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly)))
	}
	n := len(chain) + unparsed
	line := fmt.Sprintf("chain of %d", n)
	if n == 1 {
		line = "1 certificate"
	}
	if unparsed > 0 {
		line += fmt.Sprintf(" (%d unparsable)", unparsed)
	}
	return append(d, line)
}

func commonName(cn string, dns []string, full string) string {
	if cn != "" {
		return "CN=" + cn
	}
	if len(dns) > 0 {
		return "DNS:" + dns[0]
	}
	if full == "" {
		return "(empty)"
	}
	return full
}

func kxDetails(kx *tls.KeyExchange) []string {
	if kx == nil || kx.Kind == "" {
		return nil
	}
	switch {
	case kx.NamedGroup != 0:
		return []string{fmt.Sprintf("%s, group %s", kx.Kind, tls.GroupName(kx.NamedGroup))}
	case kx.DHPrimeBits > 0:
		return []string{fmt.Sprintf("%s, %d-bit prime", kx.Kind, kx.DHPrimeBits)}
	case kx.PublicKeyBits > 0:
		return []string{fmt.Sprintf("%s, %d-bit key", kx.Kind, kx.PublicKeyBits)}
	}
	return []string{kx.Kind}
}

// cleartextArrows draws the HTTP requests (and their responses) and the
// secrets seen in the clear; a secret that travelled in an HTTP request is
// written under that request.
func cleartextArrows(c *facts.Connection, showSecrets bool) []Arrow {
	var out []Arrow
	used := make([]bool, len(c.Secrets))
	for _, m := range c.HTTP {
		req := Arrow{Time: m.Time, From: tls.ClientToServer, Kind: KindHTTPRequest, Label: strings.TrimSpace(m.Method + " " + m.Path)}
		var d []string
		if m.Host != "" {
			d = append(d, "Host "+m.Host)
		}
		if m.Version != "" {
			d = append(d, m.Version)
		}
		if m.RequestBytes > 0 {
			d = append(d, report.ByteSize(uint64(m.RequestBytes)))
		}
		if len(d) > 0 {
			req.Details = []string{strings.Join(d, "; ")}
		}
		if m.UserAgent != "" {
			req.Details = append(req.Details, "User-Agent "+m.UserAgent)
		}
		for i, s := range c.Secrets {
			if !used[i] && s.Protocol == "http" && s.Time.Equal(m.Time) {
				used[i] = true
				req.Secrets = append(req.Secrets, secretLine(s, showSecrets))
			}
		}
		out = append(out, req)
		if m.Status != 0 {
			// The response's own time is not recorded: it is drawn right
			// after its request, untimed, unless a secret it carried
			// (Set-Cookie) gives its time.
			resp := Arrow{Time: m.Time, Untimed: true, From: tls.ServerToClient, Kind: KindHTTPResponse, Label: fmt.Sprint(m.Status)}
			if m.ContentType != "" {
				resp.Label += " " + m.ContentType
			}
			if m.ResponseBytes > 0 {
				resp.Details = []string{report.ByteSize(uint64(m.ResponseBytes))}
			}
			out = append(out, resp)
		}
	}
	// Secrets the server sent in HTTP belong to the response of the last
	// request before them.
	for i, s := range c.Secrets {
		if used[i] || s.Protocol != "http" || tls.Direction(s.From) != tls.ServerToClient {
			continue
		}
		last := -1
		for j, a := range out {
			if a.Kind == KindHTTPResponse && !a.Time.After(s.Time) {
				last = j
			}
		}
		if last >= 0 {
			used[i] = true
			if out[last].Untimed {
				out[last].Time, out[last].Untimed = s.Time, false
			}
			out[last].Secrets = append(out[last].Secrets, secretLine(s, showSecrets))
		}
	}
	for i, s := range c.Secrets {
		if used[i] {
			continue
		}
		label := strings.ToUpper(s.Protocol)
		if s.Field != "" {
			label += " " + s.Field
		}
		a := Arrow{Time: s.Time, From: tls.Direction(s.From), Kind: KindSecret, Label: strings.TrimSpace(label)}
		if s.User != "" {
			a.Details = []string{"user " + s.User}
		}
		a.Secrets = []string{secretLine(s, showSecrets)}
		out = append(out, a)
	}
	return out
}

func secretLine(s facts.Secret, showSecrets bool) string {
	v := s.Masked
	if showSecrets && s.Value != "" {
		v = s.Value
	}
	what := s.Type
	if what == "" {
		what = s.Kind
	}
	line := fmt.Sprintf("secret %s: %s", what, v)
	if s.Field != "" && s.Protocol == "http" {
		line += " (" + s.Field + ")"
	}
	if s.Detail != "" {
		line += "; " + s.Detail
	}
	return line
}

// attach picks the arrow a finding belongs to, or -1: a handshake step
// goes to the last such message (after a HelloRetryRequest, the second
// ClientHello; a server certificate for StepCertificate); StepAlert to the
// first fatal alert; cleartext findings to the message at their time.
func attach(arrows []Arrow, f facts.Finding) int {
	if t, ok := f.Step.Handshake(); ok {
		found := -1
		for i, a := range arrows {
			if a.Kind == KindHandshake && a.Handshake == t && a.Label != "HelloRetryRequest" {
				if t == tls.TypeCertificate && a.From != tls.ServerToClient && found >= 0 {
					continue
				}
				found = i
				if t == tls.TypeCertificate && a.From == tls.ServerToClient {
					return i
				}
			}
		}
		return found
	}
	switch f.Step {
	case facts.StepAlert:
		first := -1
		for i, a := range arrows {
			if a.Kind == KindAlert {
				if a.alert {
					return i
				}
				if first < 0 {
					first = i
				}
			}
		}
		return first
	case facts.StepHelloRetryRequest:
		for i, a := range arrows {
			if a.Label == "HelloRetryRequest" {
				return i
			}
		}
		return -1
	}
	// Cleartext (or unnamed) steps: the message at the finding's time.
	best := -1
	for i, a := range arrows {
		switch a.Kind {
		case KindHTTPRequest, KindHTTPResponse, KindSecret:
		default:
			continue
		}
		if !f.Time.IsZero() && a.Time.Equal(f.Time) {
			return i
		}
		if f.Step == facts.StepHTTP && a.Kind == KindHTTPRequest && best < 0 {
			best = i
		}
	}
	return best
}

// Write draws the ladder of c with its findings (those whose ConnID is
// c.ID; others are ignored).
func Write(w io.Writer, c *facts.Connection, findings []facts.Finding, opt Options) error {
	width := opt.Width
	if width <= 0 {
		width = DefaultWidth
	}
	width = max(width, MinWidth)
	var mine []facts.Finding
	for _, f := range findings {
		if f.ConnID == c.ID && (f.Capture == "" || c.Capture == "" || f.Capture == c.Capture) {
			mine = append(mine, f)
		}
	}
	arrows, rest := Arrows(c, mine, opt.ShowSecrets)
	p := &painter{w: w, color: opt.Color}
	header(p, c, width)

	// Times are relative to the first message (the ClientHello, or the
	// first cleartext message), not to the SYN.
	var base time.Time
	for _, a := range arrows {
		if !a.Untimed && !a.Time.IsZero() && (base.IsZero() || a.Time.Before(base)) {
			base = a.Time
		}
	}
	stamps := make([]string, len(arrows))
	tw := 0
	for i, a := range arrows {
		if !a.Untimed && !a.Time.IsZero() {
			stamps[i] = "+" + millis(a.Time.Sub(base))
		}
		tw = max(tw, len(stamps[i]))
	}
	tw += 2 // left margin
	lane := width - tw - 2
	gutter := strings.Repeat(" ", tw+2)

	if len(arrows) == 0 {
		p.line("  (no messages seen)")
	} else {
		p.line(gutter + pad("client", lane-6) + "server")
	}
	for i, a := range arrows {
		p.line(fmt.Sprintf("%*s  ", tw, stamps[i]) + p.paint(arrowLine(a, lane), arrowStyle(a)))
		for _, d := range a.Details {
			for _, l := range wrap(d, lane-5) {
				p.line(gutter + "|  " + pad(l, lane-4) + "|")
			}
		}
		for _, s := range a.Secrets {
			for _, l := range wrap(s, lane-5) {
				p.line(gutter + "|  " + p.paint(pad(l, lane-4), styleSecret) + "|")
			}
		}
		for _, f := range a.Findings {
			for _, l := range wrap(findingText(f), lane-5) {
				p.line(gutter + "|  " + p.paint(pad(l, lane-4), severityStyle(f.Severity)) + "|")
			}
		}
	}
	var notes []string
	if c.TLS != nil && len(c.TLS.Events) >= tls.MaxEvents {
		notes = append(notes, fmt.Sprintf("only the first %d records are drawn", tls.MaxEvents))
	}
	if c.Gaps > 0 {
		notes = append(notes, fmt.Sprintf("%d gaps in reassembly (bytes lost from the capture)", c.Gaps))
	}
	if c.Truncated {
		notes = append(notes, "a limit stopped the parser before the stream ended")
	}
	if end := closedText(c.Closed); end != "" && len(arrows) > 0 {
		at := c.ClosedAt
		if at.IsZero() {
			at = c.Last
		}
		if !at.IsZero() && !base.IsZero() && !at.Before(base) {
			end += " at +" + millis(at.Sub(base))
		}
		notes = append(notes, end)
	}
	if len(notes) > 0 {
		p.line("")
		for _, l := range wrap(strings.Join(notes, "; "), width) {
			p.line(l)
		}
	}
	if len(rest) > 0 {
		p.line("")
		p.line("Findings on the connection as a whole:")
		for _, f := range rest {
			for _, l := range wrap(findingText(f), width-2) {
				p.line("  " + p.paint(l, severityStyle(f.Severity)))
			}
		}
	}
	return p.err
}

// closedText says how the connection ended, from facts.Connection.Closed.
func closedText(closed string) string {
	switch closed {
	case "fin":
		return "closed (FIN)"
	case "rst":
		return "reset (RST)"
	case "idle":
		return "idle, closed by the timeout"
	case "evicted":
		return "evicted by the flow limits"
	case "end":
		return "still open when the capture ended"
	}
	return ""
}

// header: who talked to whom, the outcome and the timings that matter.
func header(p *painter, c *facts.Connection, width int) {
	title := fmt.Sprintf("connection #%d  %s", c.ID, report.ConnectionLabel(facts.Endpoint(c.Client), facts.Endpoint(c.Server), c.SNI()))
	if c.Capture != "" {
		title += "  [" + c.Capture + "]"
	}
	for _, l := range wrap(title, width) {
		p.line(p.paint(l, styleBold))
	}
	var facts []string
	proto := c.Protocol
	switch {
	case c.Proxy != "": // a proxy's tunnel, not a STARTTLS
		proto = c.StartTLS + " tunnel to " + c.Proxy
	case c.StartTLS != "":
		proto = c.StartTLS + " + STARTTLS"
	}
	if proto != "" && proto != "tls" {
		facts = append(facts, proto)
	}
	if s := c.TLS; s != nil && s.Version != 0 {
		facts = append(facts, tls.VersionName(s.Version))
		if s.ServerHello != nil {
			name, _ := s.Cipher()
			facts = append(facts, report.ShortSuite(name))
		}
	}
	if st := report.Status(c); st != proto {
		facts = append(facts, st)
	}
	facts = append(facts, Timings(c)...)
	for _, l := range wrap(strings.Join(facts, "; "), width) {
		p.line(l)
	}
	p.line("")
}

// Timings are the handshake's round trip (first ClientHello to first
// ServerHello or HelloRetryRequest), its completion and the first
// application data, each relative to the first ClientHello.
func Timings(c *facts.Connection) []string {
	s := c.TLS
	if s == nil {
		return nil
	}
	var ch, sh time.Time
	for _, e := range s.Events {
		if e.Handshake == tls.TypeClientHello && e.From == tls.ClientToServer && ch.IsZero() {
			ch = e.Time
		}
		if e.Handshake == tls.TypeServerHello && e.From == tls.ServerToClient && sh.IsZero() {
			sh = e.Time
		}
	}
	if ch.IsZero() {
		ch = s.Start
	}
	if sh.IsZero() {
		sh = s.ServerHelloAt
	}
	if ch.IsZero() {
		return nil
	}
	var out []string
	if !sh.IsZero() {
		out = append(out, "handshake RTT "+millis(sh.Sub(ch)))
	}
	if s.Established && !s.EstablishedAt.IsZero() {
		out = append(out, "established +"+millis(s.EstablishedAt.Sub(ch)))
	}
	if !s.FirstAppDataAt.IsZero() {
		out = append(out, "first application data +"+millis(s.FirstAppDataAt.Sub(ch)))
	}
	return out
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

func findingText(f facts.Finding) string {
	t := fmt.Sprintf("! %s (%s)", f.ID, f.Severity)
	if f.Message != "" {
		t += ": " + oneLine(f.Message)
	}
	if f.Evidence != "" {
		t += " [" + oneLine(f.Evidence) + "]"
	}
	return t
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// printable is report.Printable: text from traffic may carry terminal
// escape sequences and bidi overrides.
func printable(s string) string { return report.Printable(s) }

// arrowLine draws "|--- Label --->|" or "|<--- Label ---|" across n runes.
func arrowLine(a Arrow, n int) string {
	label := " " + printable(a.Label) + " "
	if a.Records > 1 {
		label = fmt.Sprintf(" %s x%d ", a.Label, a.Records)
	}
	room := n - 4 // the two bars, the head and at least one dash
	if utf8.RuneCountInString(label) > room-2 {
		label = truncate(label, room-2)
	}
	dashes := n - 3 - utf8.RuneCountInString(label)
	left := 3
	if a.From == tls.ServerToClient {
		left = dashes - 3
	}
	left = max(1, min(left, dashes-1))
	right := dashes - left
	if a.From == tls.ServerToClient {
		return "|<" + strings.Repeat("-", left) + label + strings.Repeat("-", right) + "|"
	}
	return "|" + strings.Repeat("-", left) + label + strings.Repeat("-", right) + ">|"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// wrap breaks s into lines of at most n runes at spaces, cutting words
// longer than a line.
func wrap(s string, n int) []string {
	if n < 1 {
		n = 1
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(printable(s)) {
		for utf8.RuneCountInString(word) > n {
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			r := []rune(word)
			lines = append(lines, string(r[:n]))
			word = string(r[n:])
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// ANSI styles (SGR parameters).
const (
	styleNone   = ""
	styleBold   = "1"
	styleDim    = "2"
	styleClient = "36"   // cyan
	styleServer = "32"   // green
	styleAlert  = "1;31" // bold red
	styleSecret = "35"   // magenta
)

func arrowStyle(a Arrow) string {
	switch {
	case a.Kind == KindAlert && a.alert:
		return styleAlert
	case a.Kind == KindHidden || a.Kind == KindEncryptedHandshake || a.Kind == KindAppData:
		return styleDim
	case a.From == tls.ServerToClient:
		return styleServer
	}
	return styleClient
}

func severityStyle(s facts.Severity) string {
	switch s {
	case facts.Critical:
		return "1;31"
	case facts.High:
		return "31"
	case facts.Medium:
		return "33"
	case facts.Low:
		return "34"
	}
	return styleNone
}

type painter struct {
	w     io.Writer
	color bool
	err   error
}

func (p *painter) paint(s, style string) string {
	if !p.color || style == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

func (p *painter) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, strings.TrimRight(s, " ")+"\n")
	}
}
