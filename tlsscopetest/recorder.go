// Package tlsscopetest records a Go test's own TLS traffic and analyses it
// with tlsscope, without root and without tcpdump.
//
// A Recorder wraps a server's net.Listener (Listener) or a client's dial
// function (DialContext, Dialer): every byte read or written on each
// connection is kept with its direction and time, and the key log comes
// from tls.Config.KeyLogWriter (KeyLogWriter). The recording becomes a
// pcapng of synthetic TCP flows (a SYN, SYN-ACK and ACK, the real bytes
// in segments of at most MSS bytes with correct sequence and
// acknowledgement numbers, a FIN exchange at Close) between the real
// connections' addresses, which Result and Analyze run through the public
// pipeline (tlsscope.New and Run) and WriteFiles writes out for tlsscope
// -r or Wireshark later. NoFindings and HasFinding are the assertions.
//
// What it does not do: tlsscope is passive and does not decrypt, so in
// TLS 1.3, where the certificate travels encrypted, the certificate
// checks (cert-expired, cert-self-signed, ...) have nothing to read; set
// MaxVersion: tls.VersionTLS12 on the server of a test that wants them.
// The key log is for Wireshark and tshark (it is also written into the
// pcapng as a Decryption Secrets Block). The IP and TCP headers are made
// up: the timing is that of the recording side's reads and writes, not of
// the wire, and nothing about retransmissions, windows or MTU is real.
package tlsscopetest

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tlsscope/tlsscope"
)

// DefaultMaxBytes is the default cap on what a Recorder keeps
// (Recorder.MaxBytes).
const DefaultMaxBytes = 64 << 20

// eventCost is what each recorded Read, Write or connection costs against
// MaxBytes besides its bytes: the bookkeeping, so that a flood of one-byte
// writes is bounded too.
const eventCost = 64

// Direction of recorded bytes.
const (
	toServer = 0 // client to server
	toClient = 1 // server to client
)

// Recorder records connections and their key log. Its methods are safe
// for concurrent use; set its fields before the first connection.
type Recorder struct {
	// Config is what Result analyses with; Trust adds to its CAFiles.
	// Workers 0 means 1 here (a recording is small).
	Config tlsscope.Config

	// MaxBytes caps the bytes kept: payload, key log, and eventCost per
	// connection and per Read or Write (0: DefaultMaxBytes). Past it
	// nothing more is kept, the pcapng's sequence numbers skip what was
	// lost, and Result reports a *TruncatedError.
	MaxBytes int64

	mu      sync.Mutex
	streams []*stream
	events  []event
	keylog  []byte
	trusted []*x509.Certificate
	used    int64
	seen    map[[2]netip.AddrPort]bool // client, server of each recorded stream
	lost    TruncatedError
	cleanup map[any]bool // the tests a cleanup is registered with
}

// NewRecorder returns an empty Recorder with the zero Config.
func NewRecorder() *Recorder { return &Recorder{} }

// TruncatedError says MaxBytes cut the recording: Bytes of payload and
// key log and Connections whole connections were not kept.
type TruncatedError struct {
	Max         int64
	Bytes       int64
	Connections int
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("tlsscopetest: recording truncated at MaxBytes (%d): %d bytes and %d connections not recorded; raise Recorder.MaxBytes", e.Max, e.Bytes, e.Connections)
}

// stream is one recorded connection.
type stream struct {
	id             int
	client, server netip.AddrPort
	fin            [2]bool  // a FIN was recorded, per direction
	skip           [2]int64 // bytes lost to the cap since the last event, per direction
	lost           bool     // the cap refused the whole connection
}

type eventKind uint8

const (
	eventSYN  eventKind = iota // the three-way handshake
	eventData                  // bytes in one direction
	eventFIN                   // a FIN in one direction
)

type event struct {
	s    *stream
	kind eventKind
	dir  uint8
	t    time.Time
	data []byte
	skip int64 // bytes lost before data (sequence space the pcapng skips)
}

func (r *Recorder) max() int64 {
	if r.MaxBytes > 0 {
		return r.MaxBytes
	}
	return DefaultMaxBytes
}

// Listener wraps l so that every connection it accepts is recorded (the
// server's side: what it reads went to the server). For an
// httptest.Server, wrap its Listener before StartTLS.
func (r *Recorder) Listener(l net.Listener) net.Listener { return &listener{Listener: l, r: r} }

type listener struct {
	net.Listener
	r *Recorder
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.r.wrap(c, true), nil
}

// DialContext dials with a zero net.Dialer and records the connection
// (the client's side), for http.Transport.DialContext.
func (r *Recorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return r.Dialer(d.DialContext)(ctx, network, addr)
}

// Dialer wraps a dial function so that every connection it makes is
// recorded (the client's side).
func (r *Recorder) Dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return r.wrap(c, false), nil
	}
}

// KeyLogWriter is the io.Writer for tls.Config.KeyLogWriter. It never
// fails (a failing key log would fail the handshake); past MaxBytes the
// lines are counted as lost.
func (r *Recorder) KeyLogWriter() io.Writer { return keyLog{r} }

type keyLog struct{ r *Recorder }

func (k keyLog) Write(p []byte) (int, error) {
	r := k.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used+int64(len(p)) > r.max() {
		r.lost.Bytes += int64(len(p))
		return len(p), nil
	}
	r.used += int64(len(p))
	r.keylog = append(r.keylog, p...)
	return len(p), nil
}

// Trust adds certificates (an httptest.Server's Certificate(), or the CA
// that issued a test's certificates) to the roots Result validates with.
func (r *Recorder) Trust(certs ...*x509.Certificate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trusted = append(r.trusted, certs...)
}

// wrap records c, accepted (server) or dialed (client). A connection
// whose other end is already recorded (a test that wraps both its
// listener and its dialer) is passed through unrecorded, so each TCP
// connection is in the recording once.
func (r *Recorder) wrap(c net.Conn, server bool) net.Conn {
	local, remote := addrPort(c.LocalAddr()), addrPort(c.RemoteAddr())
	client, srv, out := local, remote, uint8(toServer)
	if server {
		client, srv, out = remote, local, toClient
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := len(r.streams) + 1
	if !client.IsValid() || !srv.IsValid() {
		// Not TCP (a net.Pipe, a Unix socket): made-up loopback ends.
		client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(49152+id%16384))
		srv = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 443)
	} else {
		key := [2]netip.AddrPort{client, srv}
		if r.seen[key] {
			return c
		}
		if r.seen == nil {
			r.seen = map[[2]netip.AddrPort]bool{}
		}
		r.seen[key] = true
	}
	s := &stream{id: id, client: client, server: srv}
	if r.used+eventCost > r.max() {
		// Not recorded, but wrapped so that its bytes are counted lost.
		r.lost.Connections++
		s.lost = true
		return &conn{Conn: c, r: r, s: s, out: out}
	}
	r.used += eventCost
	r.streams = append(r.streams, s)
	r.events = append(r.events, event{s: s, kind: eventSYN, t: time.Now()})
	return &conn{Conn: c, r: r, s: s, out: out}
}

// addrPort is a TCP address as an AddrPort (IPv4-mapped IPv6 unmapped,
// no zone), or the zero AddrPort.
func addrPort(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok || ta.Port < 0 || ta.Port > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap().WithZone(""), uint16(ta.Port))
}

// Results of record that are not an event's index.
const (
	notRecorded = -1 // nothing to record (no bytes, or after this direction's FIN)
	lostToCap   = -2 // counted as lost to MaxBytes
)

// record keeps b as the next bytes of s in direction dir and returns the
// event's index, or notRecorded or lostToCap.
func (r *Recorder) record(s *stream, dir uint8, b []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := int64(len(b))
	if s.fin[dir] || n == 0 {
		return notRecorded
	}
	if s.lost || r.used+n+eventCost > r.max() {
		r.lost.Bytes += n
		s.skip[dir] += n
		return lostToCap
	}
	r.used += n + eventCost
	r.events = append(r.events, event{s: s, kind: eventData, dir: dir, t: time.Now(), data: append([]byte(nil), b...), skip: s.skip[dir]})
	s.skip[dir] = 0
	return len(r.events) - 1
}

// shorten cuts a write recorded before it happened to the n bytes that
// were written (the write failed after n).
func (r *Recorder) shorten(s *stream, dir uint8, i int, want, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch i {
	case notRecorded:
		return
	case lostToCap:
		// A Close racing the write may have taken the skip already.
		s.skip[dir] = max(s.skip[dir]-int64(want-n), 0)
		r.lost.Bytes -= int64(want - n)
		return
	}
	ev := &r.events[i]
	r.used -= int64(len(ev.data) - n)
	ev.data = ev.data[:n]
}

// fin records a FIN of s in direction dir, once.
func (r *Recorder) fin(s *stream, dir uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.fin[dir] || s.lost {
		return
	}
	s.fin[dir] = true
	// Bounded by two per recorded connection, so never refused.
	r.events = append(r.events, event{s: s, kind: eventFIN, dir: dir, t: time.Now(), skip: s.skip[dir]})
	s.skip[dir] = 0
}

// conn is a recorded connection. Writes are recorded before they are
// made, under a lock held through the write, so the recording never shows
// an answer before the bytes it answers; reads are recorded when they
// return.
type conn struct {
	net.Conn
	r      *Recorder
	s      *stream
	out    uint8 // the direction this side writes
	rmu    sync.Mutex
	wmu    sync.Mutex
	closed sync.Once
}

func (c *conn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.r.record(c.s, 1-c.out, b[:n])
	}
	if err == io.EOF {
		c.r.fin(c.s, 1-c.out) // the peer closed
	}
	return n, err
}

func (c *conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	i := c.r.record(c.s, c.out, b)
	n, err := c.Conn.Write(b)
	if n < len(b) {
		c.r.shorten(c.s, c.out, i, len(b), max(n, 0))
	}
	return n, err
}

// CloseWrite half-closes a connection that can (a *net.TCPConn) and
// records this side's FIN.
func (c *conn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("tlsscopetest: a %T has no CloseWrite", c.Conn)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	err := cw.CloseWrite()
	if err == nil {
		c.r.fin(c.s, c.out)
	}
	return err
}

// Close records this side's FIN, and the peer's (answering it) unless the
// peer closed first.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closed.Do(func() {
		c.r.fin(c.s, c.out)
		c.r.fin(c.s, 1-c.out)
	})
	return err
}
