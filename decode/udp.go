package decode

// The UDP adapter: each UDP flow (two endpoints, in either order) gets a
// place in the Analyzer's table and a parser made by Config.UDP, which
// takes the flow's datagrams in capture order and writes what it learns
// into the flow's Connection. QUIC and DTLS parsers plug in here.

import (
	"fmt"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// UDPParser is the protocol above one UDP flow. The Analyzer calls it on
// one goroutine, never after Close.
type UDPParser interface {
	// Datagram takes the flow's next datagram and says whether the parser
	// wants more. A parser records what it learns in the flow's
	// Connection (UDPFlow.Conn), reports anomalies with UDPFlow.Anomaly
	// and a completed (or failed) TLS handshake with UDPFlow.Handshake.
	Datagram(d Datagram) UDPStatus
	// Close ends the flow (idle, evicted, or the input ended): the last
	// chance to complete the Connection before it is reported. It is
	// called once, unless the parser declined the flow or panicked.
	Close()
}

// UDPStatus is what a UDPParser makes of a datagram.
type UDPStatus uint8

const (
	// UDPNeedMore: the parser wants the flow's next datagram.
	UDPNeedMore UDPStatus = iota
	// UDPDone: the parser has learnt all it can; the flow's later
	// datagrams are only counted, and Close still comes.
	UDPDone
	// UDPDecline: the flow is not the parser's protocol. It is dropped
	// (no Close) and the flow is not reported; its later datagrams are
	// only counted, as with no parser.
	UDPDecline
)

// Datagram is one UDP datagram of a flow.
type Datagram struct {
	Dir  tls.Direction // from the flow's client (the sender of its first datagram, unless SwapRoles) or its server
	Time time.Time     // capture time
	// Payload is the UDP payload. It points into the captured frame and
	// is valid only during the Datagram call: a parser copies what it
	// keeps.
	Payload []byte
	// Truncated says the frame was cut by the snaplen: Payload is only
	// the start of the datagram.
	Truncated bool
}

// UDPFlow is one UDP flow the Analyzer follows: its place in the flow
// table, its Connection, and its parser. A UDPParser is given its flow
// when it is made (Config.UDP) and may use it until Close returns.
type UDPFlow struct {
	a      *Analyzer
	ent    flow.Entry[tracked]
	conn   facts.Connection
	parser UDPParser
	offset [2]int64 // payload bytes before the current datagram, per direction

	done              bool // the parser is done, declined or panicked: count only
	declined          bool // no parser, or it declined: never reported
	handshakeReported bool
	evicted           bool
	finished          bool
}

func (f *UDPFlow) transport() flow.Transport { return flow.UDP }

// Key is the flow's key in the flow table.
func (f *UDPFlow) Key() flow.Key { return f.ent.Key() }

// Conn is the flow's Connection, for the parser to fill in (Protocol, TLS,
// ...). Transport, endpoints, times and counts are the Analyzer's.
func (f *UDPFlow) Conn() *facts.Connection { return &f.conn }

// Certificates is the Analyzer's certificate cache, for the tls.Limits of
// a parser that reads TLS handshakes (DTLS, QUIC): a chain sent on many
// flows is parsed once (the cache is safe for concurrent use).
func (f *UDPFlow) Certificates() *tls.CertCache { return &f.a.certs }

// Anomaly reports malformed or unexpected input on the flow, in the
// direction dir, at the current datagram.
func (f *UDPFlow) Anomaly(kind string, dir tls.Direction, detail string) {
	f.a.anomaly(f.anomalyAt(dir, kind, f.a.now, detail))
}

// Handshake says the TLS handshake the flow carries (Conn().TLS) has
// completed or failed: its fingerprints are computed and the Handler's
// Handshake call is made, once per flow. A flow closed with a TLS session
// and no Handshake call gets it then.
func (f *UDPFlow) Handshake() {
	if f.handshakeReported || f.conn.TLS == nil {
		return
	}
	f.handshakeReported = true
	fingerprintConn(&f.conn)
	describeCertificates(&f.conn)
	f.a.emit(event{kind: evHandshake, id: f.conn.ID}, &f.conn)
}

// SwapRoles says the flow's first datagram came from its server (a
// capture that starts with a reply): client and server, and the counts of
// each direction, change places, and later datagrams have their Dir from
// the new roles.
func (f *UDPFlow) SwapRoles() {
	c := &f.conn
	c.Client, c.Server = c.Server, c.Client
	c.Packets[0], c.Packets[1] = c.Packets[1], c.Packets[0]
	c.Bytes[0], c.Bytes[1] = c.Bytes[1], c.Bytes[0]
	f.offset[0], f.offset[1] = f.offset[1], f.offset[0]
}

func (f *UDPFlow) anomalyAt(dir tls.Direction, kind string, ts time.Time, detail string) facts.Anomaly {
	return facts.Anomaly{Kind: kind, Time: ts, ConnID: f.conn.ID, Client: f.conn.Client,
		Server: f.conn.Server, Offset: f.offset[dir&1], Detail: detail}
}

// datagram takes a decoded UDP datagram (a.seg) captured at ts.
func (a *Analyzer) datagram(ts time.Time) {
	seg := &a.seg
	var f *UDPFlow
	if e := a.flows.Get(seg.Key(flow.UDP)); e != nil {
		f = e.Flow.(*UDPFlow)
	} else {
		f = a.newUDP(ts)
	}
	dir := tls.ClientToServer
	if seg.Src != f.conn.Client {
		dir = tls.ServerToClient
	}
	c := &f.conn
	c.Packets[dir]++
	c.Bytes[dir] += uint64(seg.Payload)
	if ts.After(c.Last) {
		c.Last = ts
	}
	a.flows.Touch(&f.ent, ts)
	if seg.Truncated {
		a.stats.Truncated++
		a.anomaly(f.anomalyAt(dir, "packet_truncated", ts, ""))
	}
	if !f.done {
		f.parse(Datagram{Dir: dir, Time: ts, Payload: seg.Data, Truncated: seg.Truncated})
	}
	f.offset[dir] += int64(seg.Payload)
	if a.flows.Full() {
		a.evict()
	}
}

// newUDP starts following the UDP flow of a.seg, its sender as client.
func (a *Analyzer) newUDP(ts time.Time) *UDPFlow {
	f := &UDPFlow{a: a}
	f.ent.Flow = f
	f.conn = facts.Connection{ID: a.seq, Capture: a.capture, Transport: facts.UDP,
		Client: a.seg.Src, Server: a.seg.Dst, First: ts, Last: ts, Outer: a.dec.Outer()}
	a.flows.Add(&f.ent, a.seg.Key(flow.UDP), ts)
	func() {
		defer f.recoverParser(tls.ClientToServer, ts)
		f.parser = a.cfg.UDP(f)
	}()
	if f.parser == nil {
		f.done, f.declined = true, true
		f.conn.ID = 0 // its anomalies name no connection: none is reported
	} else {
		a.stats.Connections++
	}
	return f
}

// parse hands the parser a datagram; a panic in it costs this flow only.
func (f *UDPFlow) parse(d Datagram) {
	defer f.recoverParser(d.Dir, d.Time)
	switch f.parser.Datagram(d) {
	case UDPDone:
		f.done = true
	case UDPDecline:
		f.decline()
	}
}

// decline drops the flow's parser: the flow is only counted from now on
// and is not reported.
func (f *UDPFlow) decline() {
	if !f.declined {
		f.a.stats.Connections--
	}
	f.done, f.declined, f.parser = true, true, nil
	f.conn.ID = 0 // its anomalies name no connection: none is reported
}

// recoverParser contains a panic in a UDP parser as stream.recoverParser
// does a stream parser's: a counted anomaly, and the flow is only counted
// from then on (it is still reported, without Close).
func (f *UDPFlow) recoverParser(dir tls.Direction, ts time.Time) {
	if r := recover(); r != nil {
		f.a.anomaly(f.anomalyAt(dir, "parser_panic", ts, fmt.Sprint(r)))
		f.done, f.parser = true, nil
	}
}

// finishUDP reports a UDP flow once and forgets it.
func (a *Analyzer) finishUDP(f *UDPFlow, reason string) {
	if f.finished {
		return
	}
	f.finished = true
	if f.evicted {
		reason = "evicted"
	}
	a.flows.Remove(&f.ent, why(reason))
	if f.evicted {
		a.anomaly(f.anomalyAt(0, "flow_evicted", a.now, ""))
	}
	if f.declined {
		f.conn = facts.Connection{}
		return
	}
	f.conn.Closed = reason
	if f.parser != nil {
		func() {
			defer f.recoverParser(0, a.now)
			f.parser.Close()
		}()
		f.parser = nil
	}
	f.done = true
	if f.conn.TLS != nil {
		describeCertificates(&f.conn) // those sent after the Handshake call
		f.Handshake()
	}
	if f.conn.Bytes[0]+f.conn.Bytes[1] == 0 {
		a.stats.Connections--
		a.stats.Empty++
	} else {
		a.emit(event{kind: evConnection, id: f.conn.ID}, &f.conn)
	}
	f.conn = facts.Connection{ID: f.conn.ID}
}
