package decode

import (
	"github.com/tlsscope/tlsscope/decode/dtls"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/quic"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// DTLS is a Config.UDP parser factory for DTLS (decode/dtls): a flow
// whose first datagram is a DTLS handshake record with a ClientHello
// (whatever the port) becomes a connection with Transport UDP and
// Protocol "dtls", its handshake read by the same machine as a TCP
// connection's; any other flow is declined.
func DTLS(f *UDPFlow) UDPParser { return &dtlsParser{f: f} }

// UDPByContent is the Config.UDP factory that recognises each UDP flow by
// its first datagram: QUIC (decode.QUIC) or DTLS (decode.DTLS); other
// flows are declined.
func UDPByContent(f *UDPFlow) UDPParser { return &byContent{f: f} }

type byContent struct {
	f *UDPFlow
	p UDPParser
}

func (b *byContent) Datagram(d Datagram) UDPStatus {
	if b.p == nil {
		switch {
		case quic.Recognise(d.Payload):
			b.p = QUIC(b.f)
		case dtls.Recognise(d.Payload):
			b.p = DTLS(b.f)
		default:
			return UDPDecline
		}
	}
	return b.p.Datagram(d)
}

func (b *byContent) Close() {
	if b.p != nil {
		b.p.Close()
	}
}

type dtlsParser struct {
	f        *UDPFlow
	c        *dtls.Conn
	info     facts.DTLSInfo
	reported bool
}

func (p *dtlsParser) Datagram(d Datagram) UDPStatus {
	conn := p.f.Conn()
	if p.c == nil {
		if !dtls.Recognise(d.Payload) {
			return UDPDecline
		}
		conn.Transport, conn.Protocol, conn.DTLS = facts.UDP, "dtls", &p.info
		p.c = dtls.NewConn(tls.Limits{Certificates: p.f.Certificates()},
			func(kind string, dir tls.Direction, detail string) { p.f.Anomaly(kind, dir, detail) })
	}
	p.c.Datagram(d.Dir, d.Time, d.Payload)
	p.info = facts.DTLSInfo{HelloVerifyRequest: p.c.HelloVerifyRequest, ClientHellos: p.c.ClientHellos,
		Records: p.c.Records, Protected: p.c.Protected, DTLS13: p.c.DTLS13}
	s := p.c.Session()
	if conn.TLS == nil && (s.ClientHello != nil || s.ServerHello != nil) {
		conn.TLS = s
	}
	if !p.reported && conn.TLS != nil && (s.Established || hasFatal(s)) {
		p.reported = true
		p.f.Handshake()
	}
	return UDPNeedMore
}

func (p *dtlsParser) Close() {
	if p.c != nil && p.f.Conn().TLS == nil {
		if s := p.c.Session(); s.ClientHello != nil || s.ServerHello != nil {
			p.f.Conn().TLS = s
		}
	}
}

// hasFatal says a fatal alert was read: the handshake failed.
func hasFatal(s *tls.Session) bool {
	for _, a := range s.Alerts {
		if a.Level == tls.AlertLevelFatal {
			return true
		}
	}
	return false
}
