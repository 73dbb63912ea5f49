package flow

import "time"

// Transport is the IP protocol a flow runs over, by its IANA protocol
// number.
type Transport uint8

// The transports a Table keeps flows of.
const (
	TCP Transport = 6  // RFC 9293
	UDP Transport = 17 // RFC 768
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "unknown"
}

// Key names a flow: its two endpoints, in either order, and its transport.
// Like Pair it is plain memory without padding, so a map keyed by it hashes
// and compares its bytes in one go; the transport is held in a full word
// for that reason.
type Key struct {
	Pair Pair
	t    uint64
}

// KeyOf names the flow of a transport between the endpoints of p, bare.
func KeyOf(t Transport, p Pair) Key { return Key{Pair: p, t: uint64(t)} }

// keyIn names the flow of a transport between the endpoints of p through
// tun: the transport in the word's low byte, the tunnel's 56 bits above.
func keyIn(t Transport, p Pair, tun Tunnel) Key {
	return Key{Pair: p, t: uint64(t) | uint64(tun)<<8}
}

// Transport is the key's transport.
func (k Key) Transport() Transport { return Transport(k.t & 0xff) }

// Tunnel is the key's tunnel, 0 for a flow that came bare.
func (k Key) Tunnel() Tunnel { return Tunnel(k.t >> 8) }

// Entry is one flow's place in a Table: the adapter that follows the flow
// (a TCP stream, a UDP flow) holds it in its own state, and Flow points
// back at that state.
type Entry[F any] struct {
	Flow       F
	key        Key
	last       time.Time // last activity, capture time
	prev, next *Entry[F] // the activity list; nil when not in the table
}

// Key is the flow's key.
func (e *Entry[F]) Key() Key { return e.key }

// LastSeen is the capture time of the flow's latest packet.
func (e *Entry[F]) LastSeen() time.Time { return e.last }

// Why says why a flow left the Table, for its counters.
type Why uint8

const (
	Ended   Why = iota // closed by its transport (FIN, RST) or its adapter
	Idle               // silent for the idle timeout
	Evicted            // made room under the flow cap
	Input              // the input ended
)

// Counters are a Table's own: flows opened per transport, and how the
// ones that left it left.
type Counters struct {
	TCP, UDP uint64 // flows opened
	Ended    uint64
	Idle     uint64
	Evicted  uint64
	Input    uint64
	Peak     int // most flows in the table at once
}

// Table follows the flows of every transport: a map from Key to Entry, the
// entries in order of last activity (least recently active first, so idle
// timeout and eviction find theirs in O(1) each), the flow cap and the
// idle timeout, and counters. It decides which flows are due to go; the
// adapters that own the flows close them (the TCP adapter through the
// reassembler) and then Remove them. Time is capture time only. A Table is
// not safe for concurrent use; its zero value is not usable (NewTable).
type Table[F any] struct {
	max  int
	idle time.Duration
	m    map[Key]*Entry[F]
	root Entry[F] // sentinel of the activity list
	n    int
	c    Counters
}

// EvictHeadroom: eviction frees one EvictHeadroom-th of the cap at once.
const EvictHeadroom = 10

// NewTable makes a Table holding at most maxFlows flows (at least 1), that
// takes a flow silent for idle as expired.
func NewTable[F any](maxFlows int, idle time.Duration) *Table[F] {
	t := &Table[F]{max: max(1, maxFlows), idle: idle, m: make(map[Key]*Entry[F])}
	t.root.next, t.root.prev = &t.root, &t.root
	return t
}

// Get returns the flow last added under k, or nil.
func (t *Table[F]) Get(k Key) *Entry[F] { return t.m[k] }

// Add puts a flow first seen at ts in the table under k, as the most
// recently active; the key now finds it (a flow still there under the
// same key stays in the activity list until it is removed).
func (t *Table[F]) Add(e *Entry[F], k Key, ts time.Time) {
	e.key, e.last = k, ts
	t.m[k] = e
	t.pushBack(e)
	t.n++
	t.c.Peak = max(t.c.Peak, t.n)
	switch k.Transport() {
	case TCP:
		t.c.TCP++
	case UDP:
		t.c.UDP++
	}
}

// Touch records activity on a flow at ts: a later time than its last makes
// it the most recently active. A flow not in the table is left alone.
func (t *Table[F]) Touch(e *Entry[F], ts time.Time) {
	if !ts.After(e.last) {
		return
	}
	e.last = ts
	if e.next == nil || t.root.prev == e {
		return
	}
	t.unlink(e)
	t.pushBack(e)
}

// Remove takes a flow out of the table (once; later calls do nothing).
func (t *Table[F]) Remove(e *Entry[F], why Why) {
	if e.next == nil {
		return
	}
	t.unlink(e)
	if t.m[e.key] == e {
		delete(t.m, e.key)
	}
	t.n--
	switch why {
	case Ended:
		t.c.Ended++
	case Idle:
		t.c.Idle++
	case Evicted:
		t.c.Evicted++
	case Input:
		t.c.Input++
	}
}

// In reports whether a flow is in the table.
func (e *Entry[F]) In() bool { return e.next != nil }

// Len is the number of flows in the table.
func (t *Table[F]) Len() int { return t.n }

// Full reports whether the table holds more flows than its cap: time to
// evict.
func (t *Table[F]) Full() bool { return t.n > t.max }

// Excess is how many flows eviction takes out to bring the table back
// under its cap with headroom (one EvictHeadroom-th of the cap), so it
// does not run again at the next packet.
func (t *Table[F]) Excess() int {
	return max(0, t.n-(t.max-t.max/EvictHeadroom))
}

// IdleBefore is the time before which a flow's last activity makes it
// expired at capture time now.
func (t *Table[F]) IdleBefore(now time.Time) time.Time { return now.Add(-t.idle) }

// Oldest is the least recently active flow, or nil.
func (t *Table[F]) Oldest() *Entry[F] {
	if t.root.next == &t.root {
		return nil
	}
	return t.root.next
}

// Next is the flow active after e, or nil. Removing e does not spoil a
// walk that took Next(e) first.
func (t *Table[F]) Next(e *Entry[F]) *Entry[F] {
	if e.next == nil || e.next == &t.root {
		return nil
	}
	return e.next
}

// Counters returns the table's counters.
func (t *Table[F]) Counters() Counters { return t.c }

func (t *Table[F]) pushBack(e *Entry[F]) {
	e.prev, e.next = t.root.prev, &t.root
	t.root.prev.next = e
	t.root.prev = e
}

func (t *Table[F]) unlink(e *Entry[F]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}
