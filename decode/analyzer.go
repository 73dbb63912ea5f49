// Package decode turns captured packets into connection facts: it decodes
// headers (decode/flow), follows flows in one table (flow.Table) whatever
// their transport, reassembles TCP with gopacket's reassembly package
// (tcp.go), recognises each stream by its content (TLS on any port, or a
// cleartext protocol), hands the bytes to the stream parsers (decode/tls,
// decode/cleartext), hands UDP datagrams to the UDP parser a Config names
// (udp.go), computes fingerprints, and reports each connection through a
// Handler. It judges nothing: rules read the facts it produces.
package decode

import (
	"time"

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
	// quietEvery is how often, in capture time, the connections closed by
	// FIN or RST that have been quiet for closeLinger are reported
	// (flushIdle; the rest of the flush runs every flushEvery).
	quietEvery = time.Second
	// maxPending bounds bytes held before a stream's protocol is known;
	// past it the stream is no longer taken for TLS (anomaly sniff_limit).
	maxPending = 16 << 10
	// lingerTime is how long after a close packets without SYN on the same
	// endpoints are taken as the old connection's stragglers.
	lingerTime = 30 * time.Second
	// maxSecrets and maxHTTP bound what one connection keeps in
	// Connection.Secrets and Connection.HTTP (the Handler's Secret and
	// HTTP calls still see every one); the first one past the cap is the
	// anomaly secrets_limit or http_limit.
	maxSecrets = 64
	maxHTTP    = 256
	// maxAnomalyRecords bounds the anomaly records of one kind handed to
	// the Handler; Stats counts them all. The first one held back is the
	// anomaly anomaly_records_limit, its kind in Detail (a Parallel's
	// workers each keep their own count).
	maxAnomalyRecords   = 1000
	anomalyRecordsLimit = "anomaly_records_limit"
)

// Config sets the Analyzer's limits. Zero values take the defaults above.
type Config struct {
	MaxFlows         int           // connections tracked at once; the oldest are evicted beyond it
	MaxBufferedBytes int           // out-of-order bytes buffered per connection
	MaxBufferedTotal int64         // out-of-order bytes buffered in all
	IdleTimeout      time.Duration // a connection silent this long (capture time) is closed
	ShowSecrets      bool          // keep cleartext secrets' values (masked otherwise)

	// Keys, when set, is the key log TLS connections are decrypted with
	// (tls.Conn.SetKeys): a *keylog.Log or keylog.Logs. A Parallel's
	// workers share it; it must be safe for concurrent use, as keylog's
	// are, and may be added to while the input is read (a capture's own
	// Decryption Secrets Blocks: ReadOptions.Secrets).
	Keys tls.Keys

	// UDP, when set, makes the parser of each new UDP flow (see
	// UDPParser); it may return nil to leave the flow alone (its
	// datagrams are then only counted). Unset, UDP datagrams are only
	// counted (Stats.NonTCP) and no UDP flow is followed or reported. A
	// Parallel calls it on its workers' goroutines. QUIC, DTLS and
	// UDPByContent (either, by the flow's first datagram; the root
	// package's default) are the factories decode has.
	UDP func(f *UDPFlow) UDPParser

	// Shard, when its N is 2 or more, keeps only the flows of that shard
	// (see InShard); the others' frames are counted in Stats.OtherShard.
	Shard facts.Shard
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
	flows *flow.Table[tracked] // every open flow, TCP and UDP
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	ctx   assemblerContext
	stats facts.Stats
	clock
	ending bool   // Flush is closing everything
	seq    uint64 // index of the current packet in the run; connection ids are the index of their first packet

	unwanted [evConnection + 1]bool      // kinds of events emit drops (see deliverFor)
	holding  bool                        // a flush is running: hold events to order them
	idling   bool                        // flushIdle is running
	held     []event                     // events held
	collect  func(evs []event)           // a Parallel worker's: takes every event instead of the Handler
	prepare  func(*facts.Connection) any // a Parallel worker's: its Handler's Prepare
	// closed remembers recently closed TCP connections, so their trailing
	// packets do not start new ones; pruned as capture time passes.
	closed map[flow.Key]instant
	// closing lists the connections closed by FIN or RST that wait to be
	// reported, in the order they closed (finish, report).
	closing  []*stream
	nClosing int  // of closing, the ones not reported yet
	quieting bool // reportQuiet is walking closing
	// heldBytes is what the bypassed streams' held segments take in all
	// (maxHeldTotal).
	heldBytes int
	// synthetic marks the FINs closeStream feeds the reassembler.
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
	dec.UDP = cfg.UDP != nil
	a := &Analyzer{cfg: cfg, h: h, dec: dec, closed: make(map[flow.Key]instant)}
	a.flows = flow.NewTable[tracked](cfg.MaxFlows, cfg.IdleTimeout)
	a.pool = reassembly.NewStreamPool(a)
	a.asm = reassembly.NewAssembler(a.pool)
	a.asm.MaxBufferedPagesPerConnection = max(1, cfg.MaxBufferedBytes/pageSize)
	a.asm.MaxBufferedPagesTotal = max(1, int(cfg.MaxBufferedTotal/pageSize))
	return a
}

// tracked is a flow of the Analyzer's table: a *stream (a TCP connection,
// tcp.go) or a *UDPFlow (udp.go).
type tracked interface{ transport() flow.Transport }

// why turns a connection's Closed reason into the table's.
func why(reason string) flow.Why {
	switch reason {
	case "idle":
		return flow.Idle
	case "evicted":
		return flow.Evicted
	case "end":
		return flow.Input
	}
	return flow.Ended
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
func (a *Analyzer) Stats() facts.Stats {
	st := a.stats
	st.Evicted = a.flows.Counters().Evicted // the table's count is the one
	st.Shard = a.cfg.Shard
	return st
}

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
	due       time.Time // lastFlush + quietEvery, set with lastFlush
	fullDue   time.Time // when flushIdle next does all it does (flushEvery)
}

// tick runs for every frame: a comparison with the precomputed due time
// costs a fraction of now.Sub(lastFlush) (overflow checks, a Duration).
func (c *clock) tick(ts time.Time) bool {
	if ts.After(c.now) {
		c.now = ts
	}
	if c.lastFlush.IsZero() {
		c.lastFlush, c.due = c.now, c.now.Add(quietEvery)
		return false
	}
	if c.now.Before(c.due) {
		return false
	}
	c.lastFlush, c.due = c.now, c.now.Add(quietEvery)
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
		if !InShard(a.cfg.Shard, a.seg.Src, a.seg.Dst) { // Config.Shard is enforced here
			st.OtherShard++
			return
		}
		a.segment(p)
	case flow.UDPDatagram: // only with a UDP parser (dec.UDP)
		st.NonTCP++ // UDP is counted as before, followed or not
		if !InShard(a.cfg.Shard, a.seg.Src, a.seg.Dst) {
			st.OtherShard++
			return
		}
		a.datagram(ts)
	case flow.NotIP:
		st.NonIP++
	case flow.NotTCP:
		st.NonTCP++
	case flow.Fragment:
	case flow.UnsupportedLink:
		a.anomaly(facts.Anomaly{Kind: "unsupported_link_type", Offset: -1, Time: ts})
	default:
		st.Truncated++
		kind := "malformed_packet"
		if c := a.dec.Capped(); c != "" && c != flow.AnomalyIPv6FragmentsDropped {
			kind = c // a decoder cap: encapsulation depth, NFLOG TLVs
		}
		a.anomaly(facts.Anomaly{Kind: kind, Offset: -1, Time: ts})
	}
	if a.dec.Capped() == flow.AnomalyIPv6FragmentsDropped {
		a.anomaly(facts.Anomaly{Kind: flow.AnomalyIPv6FragmentsDropped, Offset: -1, Time: ts})
	}
}

// flushIdle runs every quietEvery of capture time: it reports the closed
// connections that have been quiet long enough (reportQuiet), and every
// flushEvery it also pushes through out-of-order data that waited too
// long and closes connections idle for longer than the idle timeout. It
// decides by the time of the frame that called it (a.now), which a
// Parallel worker is given with the call, so every worker decides as one
// Analyzer would.
func (a *Analyzer) flushIdle() {
	a.hold()
	defer a.release()
	a.idling = true // its events come before the frame's own
	defer func() { a.idling = false }()
	a.reportQuiet(false)
	if a.now.Before(a.fullDue) {
		return
	}
	a.fullDue = a.now.Add(flushEvery)
	for k, at := range a.closed {
		if a.now.Sub(at.time()) >= lingerTime {
			delete(a.closed, k)
		}
	}
	cutoff := a.flows.IdleBefore(a.now)
	a.asm.FlushWithOptions(reassembly.FlushOptions{
		T:  a.now.Add(-flushEvery),
		TC: cutoff,
	})
	// The reassembler closed the idle TCP connections it holds; it no
	// longer holds bypassed ones, nor UDP flows: close those here (the
	// table is in order of last activity).
	for e := a.flows.Oldest(); e != nil && e.LastSeen().Before(cutoff); {
		next := a.flows.Next(e)
		switch f := e.Flow.(type) {
		case *stream:
			if f.bypassed {
				a.finish(f, "idle")
			}
		case *UDPFlow:
			a.finishUDP(f, "idle")
		}
		e = next
	}
}

// evict closes the least recently active flows, of any transport, until
// the table is back under its cap, with some headroom so eviction is not
// per packet (flow.Table.Excess).
func (a *Analyzer) evict() {
	a.hold()
	defer a.release()
	for n := a.flows.Excess(); n > 0; n = a.flows.Excess() {
		// Mark the n least recently active flows and close the TCP ones
		// with one flush: one scan of the assembler's table per round,
		// not one per evicted flow.
		var marked []tracked
		var cutoff time.Time
		tcp := false
		for e := a.flows.Oldest(); e != nil && len(marked) < n; e = a.flows.Next(e) {
			switch f := e.Flow.(type) {
			case *stream:
				f.evicted = !f.closing // a closing one is only reported early
				tcp = true
			case *UDPFlow:
				f.evicted = true
			}
			marked = append(marked, e.Flow)
			if e.LastSeen().After(cutoff) {
				cutoff = e.LastSeen()
			}
		}
		if len(marked) == 0 {
			return
		}
		if tcp {
			a.asm.FlushWithOptions(reassembly.FlushOptions{T: cutoff.Add(time.Nanosecond), TC: cutoff.Add(time.Nanosecond)})
		}
		for _, f := range marked {
			switch f := f.(type) {
			case *stream:
				// The assembler did not close it (already half-closed
				// and waiting): finish it ourselves so the table still
				// shrinks.
				a.finish(f, "evicted")
			case *UDPFlow:
				a.finishUDP(f, "evicted")
			}
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
	a.reportQuiet(true)
	a.asm.FlushAll()
	a.ending = false
	for e := a.flows.Oldest(); e != nil; e = a.flows.Oldest() {
		switch f := e.Flow.(type) {
		case *stream:
			a.finish(f, "end")
		case *UDPFlow:
			a.finishUDP(f, "end")
		}
	}
	a.lastFlush, a.fullDue = time.Time{}, time.Time{}
	clear(a.closed)
}

func (a *Analyzer) anomaly(an facts.Anomaly) {
	an.Capture = a.capture
	a.stats.AddAnomaly(an.Kind)
	// Every anomaly is counted; records are kept to a number per kind, so
	// a capture cut by a small snaplen does not give a record per packet.
	if n := a.stats.Anomalies[an.Kind]; n > maxAnomalyRecords {
		if n == maxAnomalyRecords+1 {
			// The first record not handed on: say so, once per kind.
			a.anomaly(facts.Anomaly{Kind: anomalyRecordsLimit, Time: an.Time, Offset: -1, Detail: an.Kind})
		}
		return
	}
	a.emit(event{kind: evAnomaly, id: an.ConnID, an: an}, nil)
}
