// Package decode turns captured packets into connection facts: it decodes
// headers (decode/flow), reassembles TCP with gopacket's reassembly package,
// recognises each stream by its content (TLS on any port, or a cleartext
// protocol), hands the bytes to the stream parsers (decode/tls,
// decode/cleartext), computes fingerprints, and reports each connection
// through a Handler. It judges nothing: rules read the facts it produces.
package decode

import (
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Defaults for Config's zero values.
const (
	DefaultMaxFlows         = 100_000
	DefaultMaxBufferedBytes = 256 << 10 // out-of-order bytes held per connection
	DefaultMaxBufferedTotal = 64 << 20  // out-of-order bytes held in all
	DefaultIdleTimeout      = 2 * time.Minute

	// pageSize is gopacket reassembly's page size, used to turn byte caps
	// into its page caps.
	pageSize = 1900
	// flushEvery is how often, in capture time, idle connections are closed
	// and stale out-of-order data is pushed through.
	flushEvery = 10 * time.Second
	// maxPending bounds bytes held before a stream's protocol is known.
	maxPending = 16 << 10
	// lingerTime is how long after a close packets without SYN on the same
	// endpoints are taken as the old connection's stragglers.
	lingerTime = 30 * time.Second
	// maxSecrets and maxHTTP bound what one connection keeps.
	maxSecrets = 64
	maxHTTP    = 256
	// maxAnomalyRecords bounds the anomaly records of one kind handed to
	// the Handler; Stats counts them all.
	maxAnomalyRecords = 1000
)

// Config sets the Analyzer's limits. Zero values take the defaults above.
type Config struct {
	MaxFlows         int           // connections tracked at once; the oldest are evicted beyond it
	MaxBufferedBytes int           // out-of-order bytes buffered per connection
	MaxBufferedTotal int64         // out-of-order bytes buffered in all
	IdleTimeout      time.Duration // a connection silent this long (capture time) is closed
	ShowSecrets      bool          // keep cleartext secrets' values (masked otherwise)
}

func (c *Config) fill() {
	if c.MaxFlows <= 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
}

// Handler receives what the Analyzer finds. Any field may be nil. The
// Connection passed to Handshake is still being filled; the one passed to
// Connection is final. Either is valid only during the call: copy the
// struct to keep it (what it points to is never reused).
type Handler struct {
	Handshake  func(*facts.Connection) // a TLS handshake completed or failed
	Connection func(*facts.Connection) // closed, evicted or input ended
	Secret     func(*facts.Connection, facts.Secret)
	HTTP       func(*facts.Connection, facts.HTTPMessage)
	Anomaly    func(facts.Anomaly)

	// Prepare, when set, is called with each closed connection on the
	// goroutine that decoded it (a Parallel worker: work done here, such
	// as judging and rendering the connection, is spread over the
	// workers), and Prepared then takes the connection with what Prepare
	// returned, in the place of Connection, on the caller's goroutine.
	// Prepare must be safe for concurrent use.
	Prepare  func(*facts.Connection) any
	Prepared func(*facts.Connection, any)
}

// Analyzer follows every TCP connection of one or more inputs. It is not
// safe for concurrent use.
type Analyzer struct {
	cfg     Config
	h       Handler
	capture string

	dec   *flow.Decoder
	seg   flow.Segment
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	ctx   assemblerContext
	stats facts.Stats
	open  streamList // live streams, least recently active first
	nOpen int
	clock
	ending bool   // Flush is closing everything
	seq    uint64 // index of the current packet in the run; connection ids are the index of their first packet

	unwanted [evConnection + 1]bool      // kinds of events emit drops (see deliverFor)
	holding  bool                        // a flush is running: hold events to order them
	idling   bool                        // flushIdle is running
	held     []event                     // events held
	collect  func(evs []event)           // a Parallel worker's: takes every event instead of the Handler
	prepare  func(*facts.Connection) any // a Parallel worker's: its Handler's Prepare
	// closed remembers recently closed connections, so their trailing
	// packets do not start new ones; pruned as capture time passes.
	closed map[flow.Pair]instant
	// pairs finds the open stream of two endpoints; synthetic marks the
	// FINs closeStream feeds the reassembler.
	pairs     map[flow.Pair]*stream
	synthetic bool
	// toBypass lists streams that became done during the current packet;
	// they leave the reassembler once it returns (see bypass).
	toBypass []*stream
	synTCP   layers.TCP
	synHdr   [20]byte
	certs    tls.CertCache // certificates parsed once for every connection that sends them
}

// New makes an Analyzer.
func New(cfg Config, h Handler) *Analyzer {
	cfg.fill()
	dec := flow.NewDecoder()
	dec.Lazy = true // bypassed connections' segments need no header decoding
	a := &Analyzer{cfg: cfg, h: h, dec: dec, closed: make(map[flow.Pair]instant), pairs: make(map[flow.Pair]*stream)}
	a.pool = reassembly.NewStreamPool(a)
	a.asm = reassembly.NewAssembler(a.pool)
	a.asm.MaxBufferedPagesPerConnection = max(1, cfg.MaxBufferedBytes/pageSize)
	a.asm.MaxBufferedPagesTotal = max(1, int(cfg.MaxBufferedTotal/pageSize))
	a.open.init()
	return a
}

// SetCapture names the input that the following packets come from.
func (a *Analyzer) SetCapture(name string) {
	a.capture = name
	a.stats.Files++
}

// Close releases the Analyzer (nothing to release: it has no goroutines;
// Close is there so an Analyzer and a Parallel are used alike).
func (a *Analyzer) Close() {}

// Engine is what Analyzer and Parallel both offer.
type Engine interface {
	SetCapture(name string)
	Packet(p capture.Packet)
	Note(an facts.Anomaly)
	Flush()
	Stats() facts.Stats
	Close()
}

// Stats returns the counters so far.
func (a *Analyzer) Stats() facts.Stats { return a.stats }

type assemblerContext struct{ ci gopacket.CaptureInfo }

func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// Packet processes one captured frame.
func (a *Analyzer) Packet(p capture.Packet) {
	a.seq++
	if a.tick(p.Info.Timestamp) {
		a.flushIdle()
	}
	a.packet(p)
}

// Note takes an anomaly found outside decoding, by the packet reader
// before the next frame (a cut record, time going backwards): it is
// counted like the Analyzer's own and handed to the Handler in order with
// the other calls, ahead of the next frame's, for any number of Parallel
// workers.
func (a *Analyzer) Note(an facts.Anomaly) { a.note(an, a.seq+1) }

func (a *Analyzer) note(an facts.Anomaly, seq uint64) {
	saved := a.seq
	a.seq, a.idling = seq, true
	a.anomaly(an)
	a.seq, a.idling = saved, false
}

// tick advances the capture clock to a frame's time and reports whether
// an idle flush is due before the frame. Every frame counts, decoded or
// not, so Parallel, which sees every frame before its workers decode
// them, keeps the same clock and flushes every worker at the same frames
// as one Analyzer would.
func (a *Analyzer) tick(ts time.Time) bool { return a.clock.tick(ts) }

// instant is a capture time without time.Time's Location pointer, so a
// map of them (Analyzer.closed: one entry per connection closed in the
// last lingerTime) holds no pointers for the garbage collector to scan.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

func (i instant) time() time.Time { return time.Unix(i.sec, int64(i.nsec)) }

// clock is capture time: the latest frame time seen, and when idle
// connections were last flushed.
type clock struct {
	now       time.Time // capture time of the current packet
	lastFlush time.Time // zero: none yet (the next tick starts counting)
	due       time.Time // lastFlush + flushEvery, set with lastFlush
}

// tick runs for every frame: a comparison with the precomputed due time
// costs a fraction of now.Sub(lastFlush) (overflow checks, a Duration).
func (c *clock) tick(ts time.Time) bool {
	if ts.After(c.now) {
		c.now = ts
	}
	if c.lastFlush.IsZero() {
		c.lastFlush, c.due = c.now, c.now.Add(flushEvery)
		return false
	}
	if c.now.Before(c.due) {
		return false
	}
	c.lastFlush, c.due = c.now, c.now.Add(flushEvery)
	return true
}

// packet processes a frame whose run-wide index is already in a.seq.
func (a *Analyzer) packet(p capture.Packet) {
	st := &a.stats
	st.Packets++
	st.Bytes += uint64(len(p.Data))
	ts := p.Info.Timestamp
	if st.First.IsZero() || ts.Before(st.First) {
		st.First = ts
	}
	if ts.After(st.Last) {
		st.Last = ts
	}
	if ts.After(a.now) {
		a.now = ts
	}
	switch a.dec.Decode(p.LinkType, p.Data, p.Info, &a.seg) {
	case flow.TCPSegment:
	case flow.NotIP:
		st.NonIP++
		return
	case flow.NotTCP:
		st.NonTCP++
		return
	case flow.Fragment:
		return
	case flow.UnsupportedLink:
		a.anomaly(facts.Anomaly{Kind: "unsupported_link_type", Offset: -1, Time: ts})
		return
	default:
		st.Truncated++
		a.anomaly(facts.Anomaly{Kind: "malformed_packet", Offset: -1, Time: ts})
		return
	}
	if a.seg.Truncated {
		st.Truncated++
		a.anomaly(facts.Anomaly{Kind: "packet_truncated", Offset: -1, Time: ts,
			Client: a.seg.Src, Server: a.seg.Dst})
	}
	// Set for every TCP segment, counted ones too: pages the reassembler
	// queued keep &a.ctx, and a flush between packets (idle, eviction)
	// hands them to the stream with the latest segment's time.
	a.ctx.ci = p.Info
	old := a.pairs[a.seg.Pair]
	newConn := a.seg.Flags&(flow.SYN|flow.ACK) == flow.SYN
	if old != nil && old.bypassed && !newConn {
		// Nothing more to parse on this connection: count the packet and
		// watch for its close, without the reassembler.
		a.count(old, p.Info.Timestamp)
		if a.nOpen > a.cfg.MaxFlows {
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
	if a.nOpen > a.cfg.MaxFlows {
		a.evict()
	}
}

// flushIdle pushes through out-of-order data that waited too long and
// closes connections idle for longer than the idle timeout.
func (a *Analyzer) flushIdle() {
	a.hold()
	defer a.release()
	a.idling = true // its events come before the frame's own
	defer func() { a.idling = false }()
	for k, at := range a.closed {
		if a.now.Sub(at.time()) >= lingerTime {
			delete(a.closed, k)
		}
	}
	cutoff := a.now.Add(-a.cfg.IdleTimeout)
	a.asm.FlushWithOptions(reassembly.FlushOptions{
		T:  a.now.Add(-flushEvery),
		TC: cutoff,
	})
	// The reassembler no longer holds bypassed connections: close the idle
	// ones here (the list is in order of last activity).
	for s := a.open.oldest(); s != nil && s != &a.open.root && s.lastSeen.Before(cutoff); {
		next := s.next
		if s.bypassed {
			a.finish(s, "idle")
		}
		s = next
	}
}

// evict closes the least recently active connections until the table is
// back under its cap, with some headroom so eviction is not per packet.
func (a *Analyzer) evict() {
	target := a.cfg.MaxFlows - a.cfg.MaxFlows/10
	a.hold()
	defer a.release()
	for a.nOpen > target {
		// Mark the nOpen-target least recently active streams and close
		// them with one flush: one scan of the assembler's table per
		// round, not one per evicted flow.
		var marked []*stream
		var cutoff time.Time
		for s := a.open.oldest(); s != nil && s != &a.open.root && len(marked) < a.nOpen-target; s = s.next {
			s.evicted = true
			marked = append(marked, s)
			if s.lastSeen.After(cutoff) {
				cutoff = s.lastSeen
			}
		}
		if len(marked) == 0 {
			return
		}
		a.asm.FlushWithOptions(reassembly.FlushOptions{T: cutoff.Add(time.Nanosecond), TC: cutoff.Add(time.Nanosecond)})
		for _, s := range marked {
			// The assembler did not close it (already half-closed and
			// waiting): finish it ourselves so the table still shrinks.
			a.finish(s, "evicted")
		}
	}
}

// Flush ends the current input: every open connection is completed and
// reported.
func (a *Analyzer) Flush() {
	a.hold()
	defer a.release()
	a.seq++ // what the end of input closes comes after every packet
	a.ending = true
	a.asm.FlushAll()
	a.ending = false
	for s := a.open.oldest(); s != nil; s = a.open.oldest() {
		a.finish(s, "end")
	}
	a.lastFlush = time.Time{}
	clear(a.closed)
}

func (a *Analyzer) anomaly(an facts.Anomaly) {
	an.Capture = a.capture
	a.stats.AddAnomaly(an.Kind)
	// Every anomaly is counted; records are kept to a number per kind, so
	// a capture cut by a small snaplen does not give a record per packet.
	if a.stats.Anomalies[an.Kind] > maxAnomalyRecords {
		return
	}
	a.emit(event{kind: evAnomaly, id: an.ConnID, an: an}, nil)
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
		if at, ok := a.closed[a.seg.Pair]; ok && a.now.Sub(at.time()) < lingerTime {
			return nil
		}
	}
	a.stats.Connections++
	s := newStream(a, a.seq, ac.GetCaptureInfo().Timestamp, tcp)
	s.pair = a.seg.Pair
	a.pairs[s.pair] = s
	a.open.pushBack(s)
	a.nOpen++
	return s
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
	a.endInReassembler(s)
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
	if ts.After(s.lastSeen) {
		s.lastSeen = ts
		a.open.moveToBack(s)
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
		var net gopacket.Flow
		if src.Addr().Is4() {
			s4, d4 := src.Addr().As4(), dst.Addr().As4()
			net = gopacket.NewFlow(layers.EndpointIPv4, s4[:], d4[:])
		} else {
			s16, d16 := src.Addr().As16(), dst.Addr().As16()
			net = gopacket.NewFlow(layers.EndpointIPv6, s16[:], d16[:])
		}
		a.asm.AssembleWithContext(net, &a.synTCP, &a.ctx)
	}
}
