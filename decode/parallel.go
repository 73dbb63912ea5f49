package decode

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
)

// Parallel spreads the work of an Analyzer over worker goroutines. Packets
// are dealt out by flow (a hash of the two endpoints, the same both ways),
// so each connection lives on one worker with its own Analyzer and
// reassembler; the workers' Handler calls come back to the caller's
// goroutine merged in (packet, connection) order, so a capture gives the
// same output on every run. The facts, connection ids and the order of
// Handler calls are those one Analyzer gives (idle flushes run on every
// worker at the frames where one Analyzer would run them), except when
// the flow cap evicts connections: each worker evicts from its own share. It has the Analyzer's methods and, like it, is
// not safe for concurrent use.
type Parallel struct {
	h       Handler
	workers []*worker
	dec     *flow.Decoder
	seg     flow.Segment
	seq     uint64
	sent    uint64 // seq up to which every worker has been sent its packets
	free    chan *batch
	clock   clock // capture time over every frame, for idle flushes

	// held are the IPv4 fragments of datagrams not yet whole. A fragment
	// has no ports to deal it by, so the reader keeps it until the
	// datagram completes and then deals every fragment, in arrival order,
	// to the worker of the datagram's flow, whose Analyzer reassembles it
	// as one Analyzer would (a password split over fragments, a
	// fragmented ClientHello). heldOrder is oldest first, for the cap.
	frag      bool // the frame pick decoded is an IPv4 fragment, of fragKey's datagram
	fragKey   flow.FragmentKey
	held      map[flow.FragmentKey][]heldFrame
	heldOrder []flow.FragmentKey
	heldBytes int
}

// heldFrame is a fragment the reader holds (a copy of the frame).
type heldFrame struct {
	data     []byte
	info     gopacket.CaptureInfo
	linkType layers.LinkType
}

// Fragment holding caps: past them the oldest datagram's fragments go to
// the first worker as they are, and an ip_fragments_unrouted anomaly
// counts it (that datagram is then lost, as it was before fragments were
// held: its last fragment goes to its flow's worker).
const (
	maxHeldFragmentBytes = 4 << 20
	maxHeldDatagrams     = 4096
)

// AnomalyFragmentsUnrouted: a datagram's fragments were dealt before it
// was whole (maxHeldFragmentBytes or maxHeldDatagrams reached).
const AnomalyFragmentsUnrouted = "ip_fragments_unrouted"

// Batching: packets go to a worker in batches; every worker gets a batch,
// even an empty one, at least every tickPackets packets, so the merge knows
// how far each has come.
const (
	batchPackets = 256
	batchBytes   = 1 << 20 // a batch of big frames goes early: this bounds the bytes held per batch
	tickPackets  = 2048
	inFlight     = 4 // batches per worker between the reader and the worker
)

type worker struct {
	a       *Analyzer
	in      chan *batch
	out     chan *batch
	cur     *batch  // the reader's batch being filled
	working *batch  // the worker goroutine's batch being processed
	queue   []event // events returned; queue[head:] are not yet merged
	head    int
	upTo    uint64 // every event of packets up to here has been returned
	busy    int    // batches sent and not yet returned
}

// batch carries packets to a worker and its events back. The packets'
// bytes live in one reused arena or, for packets read in place from a
// capture file, in the file's blocks, retained while the batch is out.
type batch struct {
	arena   []byte
	blocks  []*capture.Block
	bytes   int // of the packets, in the arena or in blocks
	pkts    []batchPacket
	events  []event
	upTo    uint64
	capture string // when set: SetCapture before the packets
	flush   bool   // Flush after the packets
}

type batchPacket struct {
	seq      uint64
	off, n   int    // in the arena, unless data is set
	data     []byte // the packet's bytes in a retained block
	info     gopacket.CaptureInfo
	linkType layers.LinkType
	idle     bool           // not a frame: flush idle connections at info.Timestamp, before frame seq
	note     *facts.Anomaly // not a frame: the reader's anomaly, before frame seq
}

// NewParallel starts n workers (n < 1 means 1). The limits of cfg are
// shared out: each worker tracks at most MaxFlows/n connections and holds
// MaxBufferedTotal/n bytes.
func NewParallel(cfg Config, h Handler, n int) *Parallel {
	n = max(n, 1)
	cfg.fill()
	cfg.MaxFlows = max(1, cfg.MaxFlows/n)
	cfg.MaxBufferedTotal = max(1, cfg.MaxBufferedTotal/int64(n))
	p := &Parallel{h: h, dec: flow.NewDecoder(), free: make(chan *batch, n*(inFlight+2))}
	p.dec.UDP = true // UDP flows are dealt by their endpoints too
	for i := 0; i < n; i++ {
		w := &worker{a: New(cfg, Handler{}), in: make(chan *batch, inFlight), out: make(chan *batch, inFlight+1)}
		w.a.collect = func(evs []event) { w.working.events = append(w.working.events, evs...) }
		if h.Prepared != nil {
			w.a.prepare = h.Prepare
		}
		w.a.deliverFor(&h) // events h makes no call for are not held
		p.workers = append(p.workers, w)
		go w.run()
	}
	return p
}

// run is a worker's loop: packets in, events out, in order.
func (w *worker) run() {
	for b := range w.in {
		w.working = b
		if b.capture != "" {
			w.a.SetCapture(b.capture)
		}
		for i := range b.pkts {
			bp := &b.pkts[i] // not a copy: a batchPacket is some 150 bytes
			w.a.seq = bp.seq
			w.a.holding = true // every event goes through release to the batch
			if bp.note != nil {
				w.a.note(*bp.note, bp.seq)
				w.a.release()
				continue
			}
			if bp.idle {
				if bp.info.Timestamp.After(w.a.now) {
					w.a.now = bp.info.Timestamp
				}
				w.a.flushIdle()
				continue
			}
			data := bp.data
			if data == nil {
				data = b.arena[bp.off : bp.off+bp.n]
			}
			w.a.packet(capture.Packet{Data: data, Info: bp.info, LinkType: bp.linkType})
			w.a.release()
		}
		if b.flush {
			w.a.seq = b.upTo - 1
			w.a.Flush()
		}
		w.out <- b
	}
}

// SetCapture names the input that the following packets come from.
func (p *Parallel) SetCapture(name string) {
	for _, w := range p.workers {
		p.send(w)
		w.cur = p.newBatch()
		w.cur.capture = name
	}
}

// Packet deals one frame to the worker that owns its flow.
func (p *Parallel) Packet(pk capture.Packet) {
	p.seq++
	if p.clock.tick(pk.Info.Timestamp) {
		// Every worker flushes before this frame, as one Analyzer would.
		for _, w := range p.workers {
			if w.cur == nil {
				w.cur = p.newBatch()
			}
			w.cur.pkts = append(w.cur.pkts, batchPacket{seq: p.seq, idle: true, info: gopacket.CaptureInfo{Timestamp: p.clock.now}})
		}
	}
	i, hold := p.pick(pk)
	if hold {
		p.hold(pk)
		return
	}
	w := p.workers[i]
	if w.cur == nil {
		w.cur = p.newBatch()
	}
	b := w.cur
	if p.frag && p.held[p.fragKey] != nil {
		p.release(w, p.fragKey)
	}
	bp := batchPacket{seq: p.seq, info: pk.Info, linkType: pk.LinkType}
	if pk.Block != nil && pk.Data != nil {
		// No copy: the worker reads the bytes where the file reader put
		// them, and the batch holds their block until it comes back.
		if k := len(b.blocks); k == 0 || b.blocks[k-1] != pk.Block {
			pk.Block.Retain()
			b.blocks = append(b.blocks, pk.Block)
		}
		bp.data = pk.Data
	} else {
		bp.off, bp.n = len(b.arena), len(pk.Data)
		b.arena = append(b.arena, pk.Data...)
	}
	b.pkts = append(b.pkts, bp)
	b.bytes += len(pk.Data)
	if len(b.pkts) >= batchPackets || b.bytes >= batchBytes {
		p.send(w)
	}
	if p.seq-p.sent >= tickPackets {
		for _, w := range p.workers {
			p.send(w)
		}
		p.sent = p.seq
		p.merge(false)
	}
}

// Note takes the packet reader's anomaly (see Analyzer.Note); the first
// worker counts it and delivers it in order.
func (p *Parallel) Note(an facts.Anomaly) {
	w := p.workers[0]
	if w.cur == nil {
		w.cur = p.newBatch()
	}
	w.cur.pkts = append(w.cur.pkts, batchPacket{seq: p.seq + 1, note: &an})
}

// pick hashes a frame's endpoints, in either order, to a worker: every
// segment of a TCP connection and every datagram of a UDP flow go to the
// same one. An IPv4 fragment is held (hold) until its datagram is whole;
// the fragment that completes it goes by the datagram's endpoints, after
// the held ones (Packet). Other frames (counted, not analysed), and the
// fragments of a datagram the defragmenter refused, go to the first
// worker.
func (p *Parallel) pick(pk capture.Packet) (worker int, hold bool) {
	if len(p.workers) == 1 {
		return 0, false
	}
	p.frag = false
	h, ok := flow.PairHash(pk.LinkType, pk.Data)
	if !ok {
		v := p.dec.Decode(pk.LinkType, pk.Data, pk.Info, &p.seg)
		p.fragKey, p.frag = p.dec.Fragment()
		switch v {
		case flow.TCPSegment, flow.UDPDatagram:
		case flow.Fragment:
			return 0, true
		default:
			return 0, false
		}
		h = flow.HashPair(p.seg.Src, p.seg.Dst)
	}
	return int(h % uint64(len(p.workers))), false
}

// hold keeps a fragment (a copy) until its datagram is whole. Past the
// caps the oldest datagram's fragments are dealt to the first worker.
func (p *Parallel) hold(pk capture.Packet) {
	key := p.fragKey
	if p.held == nil {
		p.held = map[flow.FragmentKey][]heldFrame{}
	}
	if p.held[key] == nil {
		p.heldOrder = append(p.heldOrder, key)
	}
	p.held[key] = append(p.held[key], heldFrame{data: append([]byte(nil), pk.Data...), info: pk.Info, linkType: pk.LinkType})
	p.heldBytes += len(pk.Data)
	for len(p.heldOrder) > 0 && (p.heldBytes > maxHeldFragmentBytes || len(p.held) > maxHeldDatagrams) {
		old := p.heldOrder[0]
		if p.held[old] == nil {
			p.heldOrder = p.heldOrder[1:] // released already
			continue
		}
		w := p.workers[0]
		if w.cur == nil {
			w.cur = p.newBatch()
		}
		w.cur.pkts = append(w.cur.pkts, batchPacket{seq: p.seq, note: &facts.Anomaly{Kind: AnomalyFragmentsUnrouted, Time: pk.Info.Timestamp,
			Detail: fmt.Sprintf("%d fragments dealt before their datagram was whole (%d datagrams, %d bytes held)", len(p.held[old]), len(p.held), p.heldBytes)}})
		p.release(w, old)
	}
}

// release deals a datagram's held fragments to w, in arrival order, at
// the current frame's place (they give no events before the datagram is
// whole, so the merge order is the one Analyzer's).
func (p *Parallel) release(w *worker, key flow.FragmentKey) {
	if w.cur == nil {
		w.cur = p.newBatch()
	}
	b := w.cur
	for _, f := range p.held[key] {
		b.pkts = append(b.pkts, batchPacket{seq: p.seq, off: len(b.arena), n: len(f.data), info: f.info, linkType: f.linkType})
		b.arena = append(b.arena, f.data...)
		b.bytes += len(f.data)
		p.heldBytes -= len(f.data)
	}
	delete(p.held, key)
	if len(p.held) == 0 {
		p.heldOrder = p.heldOrder[:0]
	}
}

func (p *Parallel) newBatch() *batch {
	select {
	case b := <-p.free:
		return b
	default:
		return &batch{}
	}
}

// send hands a worker its current batch (possibly empty: it still carries
// progress), waiting for returned batches when too many are in flight.
func (p *Parallel) send(w *worker) {
	b := w.cur
	if b == nil {
		b = p.newBatch()
	}
	w.cur = nil
	b.upTo = p.seq
	for w.busy >= inFlight {
		p.collect(w, <-w.out)
	}
	w.busy++
	w.in <- b
	// Take back whatever has come back meanwhile, without waiting.
	for _, w := range p.workers {
		for {
			select {
			case r := <-w.out:
				p.collect(w, r)
				continue
			default:
			}
			break
		}
	}
}

// collect takes a returned batch's events into its worker's queue.
func (p *Parallel) collect(w *worker, b *batch) {
	w.busy--
	if w.head > 0 && w.head >= len(w.queue)/2 {
		// Move what is left to the front, so the array does not grow
		// when the queue never quite empties.
		n := copy(w.queue, w.queue[w.head:])
		clear(w.queue[n:])
		w.queue, w.head = w.queue[:n], 0
	}
	w.queue = append(w.queue, b.events...)
	w.upTo = b.upTo
	if b.flush {
		w.upTo = ^uint64(0)
	}
	for _, blk := range b.blocks {
		blk.Release()
	}
	clear(b.blocks)
	clear(b.events)
	clear(b.pkts) // no slice into a released block stays reachable
	b.events, b.pkts, b.arena, b.blocks, b.bytes = b.events[:0], b.pkts[:0], b.arena[:0], b.blocks[:0], 0
	b.capture, b.flush = "", false
	select {
	case p.free <- b:
	default:
	}
}

// merge delivers, in (seq, connection) order, every queued event that no
// worker can still precede; with all set, it waits for every worker.
func (p *Parallel) merge(all bool) {
	if all {
		for _, w := range p.workers {
			for w.busy > 0 {
				p.collect(w, <-w.out)
			}
		}
	}
	for {
		var best *worker
		safe := ^uint64(0)
		for _, w := range p.workers {
			safe = min(safe, w.upTo)
			if w.head == len(w.queue) {
				continue
			}
			if best == nil || before(&w.queue[w.head], &best.queue[best.head]) {
				best = w
			}
		}
		if best == nil || best.queue[best.head].seq > safe {
			return
		}
		ev := &best.queue[best.head]
		best.a.deliver(&p.h, ev, nil)
		*ev = event{}
		best.head++
		if best.head == len(best.queue) {
			best.queue, best.head = best.queue[:0], 0 // keep the array
		}
	}
}

// Flush ends the current input on every worker and delivers all events.
func (p *Parallel) Flush() {
	p.seq++
	for _, key := range p.heldOrder {
		if p.held[key] != nil {
			p.release(p.workers[0], key) // never whole: as one Analyzer, nothing comes of them
		}
	}
	p.heldOrder = p.heldOrder[:0]
	p.clock.lastFlush = time.Time{}
	for _, w := range p.workers {
		if w.cur == nil {
			w.cur = p.newBatch()
		}
		w.cur.flush = true
		p.send(w)
	}
	p.sent = p.seq
	p.merge(true)
}

// Stats sums the workers' counters. Call it after Flush.
func (p *Parallel) Stats() facts.Stats {
	var st facts.Stats
	for _, w := range p.workers {
		ws := w.a.Stats()
		files := max(st.Files, ws.Files) // every worker saw every file
		st.Add(ws)
		st.Files = files
	}
	return st
}

// Close stops the workers. The Parallel cannot be used afterwards.
func (p *Parallel) Close() {
	for _, w := range p.workers {
		close(w.in)
	}
}
