package decode

import (
	"slices"

	"github.com/tlsscope/tlsscope/decode/facts"
)

type eventKind uint8

const (
	evHandshake eventKind = iota
	evSecret
	evHTTP
	evAnomaly
	evConnection
)

// event is one Handler call, held when it cannot be delivered at once: while
// a flush closes connections in the reassembler's (map) order, or on a
// Parallel worker. seq is the index of the packet that caused it and id the
// connection's; delivering held events sorted by (seq, id) keeps the output
// of a capture the same from run to run.
type event struct {
	seq    uint64
	late   bool // caused by the frame seq itself, not by the idle flush before it
	id     uint64
	kind   eventKind
	conn   *facts.Connection // a copy: the stream's own is reused
	secret facts.Secret
	http   facts.HTTPMessage
	an     facts.Anomaly
	prep   any  // what Handler.Prepare made of the connection
	ready  bool // prep is set
}

// emit delivers an event now, or holds it (with a copy of the connection)
// while a flush is running or when a collector takes events.
func (a *Analyzer) emit(ev event, conn *facts.Connection) {
	if a.unwanted[ev.kind] {
		return
	}
	ev.seq, ev.late = a.seq, !a.idling
	if a.collect == nil && !a.holding {
		a.deliver(&a.h, &ev, conn)
		return
	}
	if conn != nil {
		cp := *conn
		if cp.TLS != nil && a.collect != nil && ev.kind != evConnection {
			// A Parallel worker goes on filling the session while the
			// caller reads this event: give it a snapshot. A closed
			// connection's session is final (finish drops its parser).
			sess := *cp.TLS
			cp.TLS = &sess
		}
		if cp.QUIC != nil && a.collect != nil && ev.kind != evConnection {
			// The same for a QUIC connection's packet counts.
			q := *cp.QUIC
			cp.QUIC = &q
		}
		if cp.DTLS != nil && a.collect != nil && ev.kind != evConnection {
			d := *cp.DTLS
			cp.DTLS = &d
		}
		ev.conn = &cp
	}
	a.held = append(a.held, ev)
}

// deliverFor tells an Analyzer whose events go to another Handler than its
// own (a Parallel worker's, by way of its collector) which kinds that
// Handler takes: emit drops the others instead of holding them with a copy
// of the connection (a TLS connection's handshake event copies its
// session too), since deliver would make no call for them.
func (a *Analyzer) deliverFor(h *Handler) {
	a.unwanted[evHandshake] = h.Handshake == nil
	a.unwanted[evSecret] = h.Secret == nil
	a.unwanted[evHTTP] = h.HTTP == nil
	a.unwanted[evAnomaly] = h.Anomaly == nil
	a.unwanted[evConnection] = h.Connection == nil && (h.Prepare == nil || h.Prepared == nil)
}

// deliver makes the Handler call for an event.
func (a *Analyzer) deliver(h *Handler, ev *event, conn *facts.Connection) {
	if conn == nil {
		conn = ev.conn
	}
	switch ev.kind {
	case evHandshake:
		if h.Handshake != nil {
			h.Handshake(conn)
		}
	case evSecret:
		if h.Secret != nil {
			h.Secret(conn, ev.secret)
		}
	case evHTTP:
		if h.HTTP != nil {
			h.HTTP(conn, ev.http)
		}
	case evAnomaly:
		if h.Anomaly != nil {
			h.Anomaly(ev.an)
		}
	case evConnection:
		switch {
		case h.Prepare != nil && h.Prepared != nil:
			if !ev.ready {
				ev.prep = h.Prepare(conn)
			}
			h.Prepared(conn, ev.prep)
		case h.Connection != nil:
			h.Connection(conn)
		}
	}
}

// hold starts holding events (a flush is about to close connections in no
// particular order).
func (a *Analyzer) hold() { a.holding = true }

// release sorts the events held since hold by connection and hands them
// on: to the Handler, or to the collector of a Parallel worker.
func (a *Analyzer) release() {
	a.holding = false
	if len(a.held) == 0 {
		return
	}
	// Events of one flush share their seq; order them by connection,
	// keeping each connection's own events in the order they happened.
	slices.SortStableFunc(a.held, func(x, y event) int {
		switch {
		case before(&x, &y):
			return -1
		case before(&y, &x):
			return 1
		}
		return 0
	})
	if a.collect != nil {
		if a.prepare != nil {
			// On a Parallel worker: prepare closed connections here.
			for i := range a.held {
				if ev := &a.held[i]; ev.kind == evConnection {
					ev.prep, ev.ready = a.prepare(ev.conn), true
				}
			}
		}
		a.collect(a.held)
	} else {
		for i := range a.held {
			a.deliver(&a.h, &a.held[i], nil)
		}
	}
	clear(a.held)
	a.held = a.held[:0]
}

// before orders events by the frame that caused them, the idle flush
// before a frame ahead of the frame's own events, then by connection.
func before(x, y *event) bool {
	if x.seq != y.seq {
		return x.seq < y.seq
	}
	if x.late != y.late {
		return y.late
	}
	return x.id < y.id
}
