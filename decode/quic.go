package decode

import (
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/quic"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// QUIC is a Config.UDP parser factory for QUIC (decode/quic): a flow
// whose first datagram is a QUIC long header of a known version (by
// content, whatever the port) becomes a connection with Transport QUIC,
// its Initial packets opened and their TLS handshake read by the same
// machine as a TCP connection's; any other flow is declined.
func QUIC(f *UDPFlow) UDPParser { return &quicParser{f: f} }

type quicParser struct {
	f        *UDPFlow
	c        *quic.Conn
	info     facts.QUICInfo
	params   bool // transport parameters named
	reported bool // the handshake was reported
}

func (p *quicParser) Datagram(d Datagram) UDPStatus {
	conn := p.f.Conn()
	if p.c == nil {
		if !quic.Recognise(d.Payload) {
			return UDPDecline
		}
		conn.Transport, conn.Protocol, conn.QUIC = facts.QUIC, "quic", &p.info
		p.c = quic.NewConn(&p.info, tls.Limits{Certificates: p.f.Certificates()},
			func(kind string, dir tls.Direction, detail string) { p.f.Anomaly(kind, dir, detail) })
	}
	p.c.Datagram(d.Dir, d.Time, d.Payload)
	p.update()
	// The handshake is reported when it is taken as established (the
	// client's first 1-RTT packet after its Handshake packets), else at
	// the close, as a TCP connection's is when it completes or fails.
	if p.c.Established() && !p.reported {
		p.reported = true
		p.f.Handshake()
	}
	return UDPNeedMore
}

// update copies into the Connection what the handshake has shown so far.
func (p *quicParser) update() {
	conn := p.f.Conn()
	s := p.c.Session()
	if conn.TLS == nil && (s.ClientHello != nil || s.ServerHello != nil) {
		conn.TLS = s
	}
	if ch := s.ClientHello; ch != nil && !p.params {
		p.params = true
		for _, tp := range ch.QUICTransportParameters {
			p.info.TransportParameters = append(p.info.TransportParameters, quic.TransportParameterName(tp.ID))
		}
	}
}

func (p *quicParser) Close() {
	if p.c != nil {
		p.update()
	}
}
