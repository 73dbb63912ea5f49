package decode

// The TCP adapter: the glue between the flow table, gopacket's reassembly
// package and the stream parsers (stream.go). The reassembler owns a TCP
// connection's halves, sequence numbers and out-of-order pages; the
// Analyzer's table (flow.Table) owns its key, its place in the activity
// list and its eviction; a stream is both the reassembler's Stream and the
// table's Entry.

import (
	"bytes"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
	"github.com/tlsscope/tlsscope/capture"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// segment takes a decoded TCP segment (a.seg) of frame p: a bypassed
// connection's is only counted, any other goes to the reassembler.
func (a *Analyzer) segment(p capture.Packet) {
	st, ts := &a.stats, p.Info.Timestamp
	if a.seg.Truncated {
		st.Truncated++
		a.anomaly(facts.Anomaly{Kind: "packet_truncated", Offset: -1, Time: ts,
			Client: a.seg.Src, Server: a.seg.Dst})
	}
	// Set for every TCP segment, counted ones too: pages the reassembler
	// queued keep &a.ctx, and a flush between packets (idle, eviction)
	// hands them to the stream with the latest segment's time.
	a.ctx.ci = p.Info
	var old *stream
	if e := a.flows.Get(a.seg.Key(flow.TCP)); e != nil {
		old = e.Flow.(*stream)
	}
	newConn := a.seg.Flags&(flow.SYN|flow.ACK) == flow.SYN
	if old != nil && old.bypassed && !newConn {
		// Nothing more to parse on this connection: count the packet and
		// watch for its close, without the reassembler.
		a.count(old, p.Info.Timestamp)
		if a.flows.Full() {
			a.evict()
		}
		return
	}
	if !a.dec.TCP(&a.seg) {
		st.Truncated++
		a.anomaly(facts.Anomaly{Kind: "malformed_packet", Offset: -1, Time: ts})
		return
	}
	if old != nil && newConn && (old.rst || old.fin || old.bypassed) {
		// A new connection on the endpoints of one that was reset or
		// half-closed: end the old one first, or the reassembler (which
		// starts afresh only when both halves are closed, and closes only
		// the half a RST travels on) would drop this SYN and take the new
		// connection's data for a gap in the old one.
		a.closeStream(old)
	}
	a.asm.AssembleWithContext(a.seg.Net, a.seg.TCP, &a.ctx)
	for len(a.toBypass) > 0 {
		s := a.toBypass[len(a.toBypass)-1]
		a.toBypass = a.toBypass[:len(a.toBypass)-1]
		a.bypass(s)
	}
	if a.flows.Full() {
		a.evict()
	}
}

func (s *stream) transport() flow.Transport { return flow.TCP }

type assemblerContext struct{ ci gopacket.CaptureInfo }

func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// dir turns the reassembler's direction into a client/server one.
func (s *stream) dir(d reassembly.TCPFlowDirection) tls.Direction {
	fromFirst := d == reassembly.TCPDirClientToServer
	if fromFirst != s.flipped {
		return tls.ClientToServer
	}
	return tls.ServerToClient
}

// New implements reassembly.StreamFactory.
// A packet without SYN or payload (a trailing ACK, FIN or RST of a
// connection already closed) starts nothing.
func (a *Analyzer) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	if !tcp.SYN && len(tcp.Payload) == 0 {
		return nil
	}
	if !tcp.SYN {
		// Data on a connection that closed moments ago (a retransmission,
		// a late alert) belongs to it, not to a new one.
		if at, ok := a.closed[a.seg.Key(flow.TCP)]; ok && a.now.Sub(at.time()) < lingerTime {
			return nil
		}
	}
	a.stats.Connections++
	ts := ac.GetCaptureInfo().Timestamp
	s := newStream(a, a.seq, ts, tcp)
	s.conn.Outer = a.dec.Outer()
	a.flows.Add(&s.ent, a.seg.Key(flow.TCP), ts)
	return s
}

// Accept implements reassembly.Stream: it counts every packet and decides
// whether the reassembler should bother with its bytes.
func (s *stream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, d reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	*start = true // take connections whose start was not captured
	if s.a.synthetic {
		return true // closeStream's FIN: not traffic
	}
	i := 0
	if d == reassembly.TCPDirServerToClient {
		i = 1
	}
	end := tcp.Seq + uint32(len(tcp.Payload))
	if tcp.SYN || tcp.FIN {
		end++
	}
	if !s.endKnown[i] || int32(end-s.end[i]) > 0 {
		s.end[i], s.endKnown[i] = end, true
	}
	s.sender[i] = s.a.seg.Src
	ts := ci.Timestamp
	if ts.After(s.conn.Last) {
		s.conn.Last = ts
	}
	s.a.flows.Touch(&s.ent, ts)
	dir := s.dir(d)
	s.conn.Packets[dir]++
	s.conn.Bytes[dir] += uint64(len(tcp.Payload))
	if tcp.SYN && !tcp.ACK && !s.roleKnown {
		dir = s.setClient(dir == tls.ServerToClient, dir)
	}
	if tcp.FIN {
		s.fin = true
	}
	if tcp.RST {
		s.rst = true
	}
	// Every packet goes on to the reassembler, even when the parser has
	// learnt all it can: it keeps the sequence numbers, so FIN and RST
	// close the connection promptly and a reused port starts a new one.
	return true
}

// ReassembledSG implements reassembly.Stream: in-order bytes of one
// direction.
func (s *stream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	if s.done {
		return
	}
	d, _, _, skip := sg.Info()
	dir := s.dir(d)
	n, _ := sg.Lengths()
	ts := ac.GetCaptureInfo().Timestamp
	if skip > 0 {
		s.conn.Gaps++
		s.a.stats.Gaps++
		s.a.anomaly(s.anomalyAt(dir, "tcp_gap", ts, ""))
		s.gap(dir)
	}
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	defer s.recoverParser(dir, ts)
	if faultHook != nil {
		faultHook(data)
	}
	s.feed(dir, data, ts)
	s.offset[dir] += int64(len(data))
}

// ReassemblyComplete implements reassembly.Stream.
func (s *stream) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	if s.bypassed {
		return true // the Analyzer follows it now
	}
	reason := "idle"
	if s.a.ending {
		reason = "end"
	}
	s.a.finish(s, reason)
	return true
}

// closeStream ends a stream for a new connection on its endpoints: in the
// reassembler first, which completes it (and reports it) the way a real
// close would, then here if the reassembler could not.
func (a *Analyzer) closeStream(s *stream) {
	if !s.bypassed { // else the reassembler let it go already
		a.endInReassembler(s)
	}
	if !s.finished && !s.bypassed {
		// The reassembler still waits for data it never got: report the
		// connection now; the new one still loses its SYN (counted).
		a.anomaly(s.anomalyAt(0, "tcp_port_reused", a.now, ""))
		a.finish(s, "rst")
	}
	a.finish(s, "")
}

// bypass takes a stream whose parsing is over out of the reassembler: its
// halves are ended there (endInReassembler) and its later packets are
// only counted (count). Past the handshake that is most of a connection's
// packets, and most of the reassembler's work.
func (a *Analyzer) bypass(s *stream) {
	if s.finished || s.bypassed {
		return
	}
	s.bypassed = true
	if s.kind == kindTLS && s.tls != nil {
		// The handshake is over, but its records still say something:
		// application data counted per side, an alert at the end. The
		// framer goes on reading their headers from the segments that
		// come in order (follow), without the reassembler.
		for i := range 2 {
			if s.endKnown[i] {
				dir := s.dir(i == 1)
				s.next[dir], s.follow[dir] = s.end[i], true
			}
		}
	}
	a.endInReassembler(s)
}

// heldSegment is a bypassed TLS stream's segment that came before the
// bytes in front of it (Analyzer.follow), copied.
type heldSegment struct {
	seq  uint32
	data []byte
}

// A bypassed stream holds at most maxHeld segments of maxHeldBytes in all
// per direction while it waits for the bytes before them, and all streams
// of an Analyzer together at most maxHeldTotal (a flood of connections
// each sending out of order); past any of them the wait is given up: the
// framer is told of a gap and looks for the next record header, so only
// the counts of the records in between are lost.
const (
	maxHeld      = 8
	maxHeldBytes = 32 << 10
	maxHeldTotal = 16 << 20
)

// follow hands a bypassed TLS stream's segment to its record framer in
// sequence: a retransmission's bytes already read are cut off, and a
// segment ahead of the next expected byte waits (held) for the ones in
// front of it, within maxHeld and maxHeldBytes.
func (a *Analyzer) follow(s *stream, dir tls.Direction, ts time.Time) {
	seq, data := a.seg.TCPData()
	if len(data) == 0 {
		return
	}
	defer s.recoverParser(dir, ts)
	if int32(seq-s.next[dir]) > 0 {
		held := s.held[dir]
		n := len(data)
		for _, h := range held {
			n += len(h.data)
		}
		if len(held) < maxHeld && n <= maxHeldBytes && s.a.heldBytes+len(data) <= maxHeldTotal {
			i := 0
			for i < len(held) && int32(held[i].seq-seq) <= 0 {
				i++
			}
			s.held[dir] = slices.Insert(held, i, heldSegment{seq, bytes.Clone(data)})
			s.a.heldBytes += len(data)
			return
		}
		s.drainHeld(dir, ts, true)
		if int32(seq-s.next[dir]) > 0 {
			s.tls.Gap(dir)
			s.next[dir] = seq
		}
	}
	s.followIn(dir, seq, data, ts)
	s.drainHeld(dir, ts, false)
}

// followIn feeds the framer a segment that starts at or before the next
// expected byte.
func (s *stream) followIn(dir tls.Direction, seq uint32, data []byte, ts time.Time) {
	end := seq + uint32(len(data))
	if d := int32(seq - s.next[dir]); d < 0 {
		if int32(end-s.next[dir]) <= 0 {
			return // all read already
		}
		data = data[-d:]
	}
	s.next[dir] = end
	s.feedTLS(dir, data, ts)
}

// drainHeld feeds the held segments the stream has caught up with; all
// says to feed every one, across the gaps in front of them.
func (s *stream) drainHeld(dir tls.Direction, ts time.Time, all bool) {
	for len(s.held[dir]) > 0 && s.tls != nil {
		h := s.held[dir][0]
		if int32(h.seq-s.next[dir]) > 0 {
			if !all {
				return
			}
			s.tls.Gap(dir)
			s.next[dir] = h.seq
		}
		s.held[dir] = s.held[dir][1:]
		s.a.heldBytes -= len(h.data)
		s.followIn(dir, h.seq, h.data, ts)
	}
	for _, h := range s.held[dir] { // the parser is gone: let them go
		s.a.heldBytes -= len(h.data)
	}
	s.held[dir] = nil
}

// count takes a packet of a bypassed stream: it counts it, keeps the
// stream's place in the activity list and closes it on RST, or once both
// sides have sent a FIN.
func (a *Analyzer) count(s *stream, ts time.Time) {
	dir := tls.ClientToServer
	if a.seg.Src != s.conn.Client {
		dir = tls.ServerToClient
	}
	s.conn.Packets[dir]++
	s.conn.Bytes[dir] += uint64(a.seg.Payload)
	if ts.After(s.conn.Last) {
		s.conn.Last = ts
	}
	a.flows.Touch(&s.ent, ts)
	if s.closing {
		return // closed: its last packets are only counted
	}
	if s.follow[dir] && a.seg.Payload > 0 && s.tls != nil {
		a.follow(s, dir, ts)
	}
	switch f := a.seg.Flags; {
	case f.Has(flow.RST):
		s.rst = true
		a.finish(s, "rst")
	case f.Has(flow.FIN):
		s.fin = true
		s.finFrom[dir] = true
		if s.finFrom[0] && s.finFrom[1] {
			a.finish(s, "fin")
		}
	}
}

// endInReassembler ends both halves of a stream in the reassembler by
// feeding each a FIN at the sequence number after the last byte it sent,
// so the reassembler lets it go the way a real close would.
func (a *Analyzer) endInReassembler(s *stream) {
	saved := a.seg
	defer func() { a.seg = saved }()
	a.synthetic = true
	defer func() { a.synthetic = false }()
	for i := 0; i < 2 && !s.finished; i++ {
		if !s.endKnown[i] {
			continue
		}
		src := s.sender[i]
		dst := s.conn.Client
		if dst == src {
			dst = s.conn.Server
		}
		h := a.synHdr[:]
		clear(h)
		h[0], h[1] = byte(src.Port()>>8), byte(src.Port())
		h[2], h[3] = byte(dst.Port()>>8), byte(dst.Port())
		seq := s.end[i]
		h[4], h[5], h[6], h[7] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
		h[12] = 5 << 4
		h[13] = 0x11 // FIN, ACK
		h[14] = 0xff
		if a.synTCP.DecodeFromBytes(h, gopacket.NilDecodeFeedback) != nil {
			return
		}
		net := flow.NetFlow(src.Addr(), dst.Addr(), s.ent.Key().Tunnel())
		a.asm.AssembleWithContext(net, &a.synTCP, &a.ctx)
	}
}

// A connection closed by FIN or RST is reported once it has been quiet
// for closeLinger, at the first flushIdle after that (every quietEvery), so the
// packets that follow the close (the last ACKs, a retransmitted FIN, a
// late alert) are counted in it, as tshark's conversations count them. At
// most maxClosing wait at once (their facts are all that is kept): past it
// the oldest is reported at once, so on a busy link a connection's last
// packets may go uncounted, and with several workers, whose lists fill
// apart, records may come in another order.
const (
	closeLinger = 2 * time.Second
	maxClosing  = 128
)

// finish ends a connection once: a FIN or RST leaves it counting its
// last packets (closing) until report; any other end, or a second call,
// reports it at once.
func (a *Analyzer) finish(s *stream, reason string) {
	if s.finished {
		if s.closing {
			a.report(s)
		}
		return
	}
	for dir := range s.held {
		s.drainHeld(tls.Direction(dir), a.now, true)
	}
	s.finished = true
	s.done = true // packets still in flight for it are only counted
	switch {
	case s.evicted:
		reason = "evicted"
	case s.rst:
		reason = "rst"
	case s.fin:
		reason = "fin"
	}
	if s.evicted {
		a.anomaly(s.anomalyAt(0, "flow_evicted", a.now, ""))
	}
	s.conn.Closed = reason
	if reason == "fin" || reason == "rst" {
		s.conn.ClosedAt = a.now
	}
	if s.text != nil {
		s.text.Close()
		s.conn.Truncated = s.conn.Truncated || s.text.Truncated > 0
	}
	if s.conn.TLS != nil {
		s.fingerprint()
		describeCertificates(&s.conn)
		if !s.handshakeReported {
			s.handshakeReported = true
			a.emit(event{kind: evHandshake, id: s.conn.ID}, &s.conn)
		}
	}
	s.pending = [2][]byte{}
	if (reason == "fin" || reason == "rst") && !a.ending {
		// Out of the reassembler (it lets a closed stream go; count
		// takes the packets that follow) and into the closing list.
		s.closing, s.bypassed = true, true
		// Nothing more is parsed: only the facts wait (closeLinger).
		s.text = nil
		if s.tls != nil {
			s.tls.Release()
		}
		a.closing = append(a.closing, s)
		a.nClosing++
		for a.nClosing > maxClosing {
			a.report(a.oldestClosing())
		}
		return
	}
	a.report(s)
}

// oldestClosing is the connection that closed first of those waiting to be
// reported (nClosing > 0), with the reported ones in front of it dropped.
func (a *Analyzer) oldestClosing() *stream {
	for !a.closing[0].closing {
		a.closing[0] = nil
		a.closing = a.closing[1:]
	}
	return a.closing[0]
}

// reportQuiet reports, in the order they closed, the closing connections
// quiet for closeLinger (all of them when all is set), and drops the
// reported ones from the list, in one pass.
func (a *Analyzer) reportQuiet(all bool) {
	if all && a.holding {
		// One connection event each, held: grown once, not by doubling.
		a.held = slices.Grow(a.held, a.nClosing)
	}
	a.quieting = true // report leaves the list to this pass
	defer func() { a.quieting = false }()
	kept := a.closing[:0]
	for _, s := range a.closing {
		if s.closing && (all || a.now.Sub(s.conn.Last) >= closeLinger) {
			a.report(s)
		}
		if s.closing {
			kept = append(kept, s)
		}
	}
	clear(a.closing[len(kept):])
	a.closing = kept
}

// report hands a finished connection to the Handler and forgets it.
func (a *Analyzer) report(s *stream) {
	if s.closing {
		// Left in Analyzer.closing, which skips and drops it later:
		// taking it out here would cost a search per report.
		s.closing = false
		a.nClosing--
		if !a.quieting && len(a.closing) > 2*a.nClosing+64 {
			// Mostly reported ones (a reused port reports out of
			// order): drop them, so they are not kept alive.
			a.closing = slices.DeleteFunc(a.closing, func(c *stream) bool { return !c.closing })
		}
	}
	a.flows.Remove(&s.ent, why(s.conn.Closed))
	if !a.ending {
		a.closed[s.ent.Key()] = instantOf(a.now)
	}
	if s.conn.Bytes[0]+s.conn.Bytes[1] == 0 {
		// A handshake and a close, or a port probe: nothing to judge.
		a.stats.Connections--
		a.stats.Empty++
	} else {
		a.emit(event{kind: evConnection, id: s.conn.ID}, &s.conn)
	}
	// The handler copied what it keeps; let the parsed state go now, the
	// reassembler may hold the stream a little longer.
	s.tls, s.text = nil, nil
	s.conn = facts.Connection{ID: s.conn.ID}
}
