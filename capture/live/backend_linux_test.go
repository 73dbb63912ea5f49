//go:build linux

package live_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture/live"
)

// floodMagic starts every datagram the tests send, followed by a big-endian
// uint32 sequence number.
var floodMagic = []byte("tlsscope-flood:")

// udpSink is a UDP socket on 127.0.0.1 that never reads (so senders get no
// ICMP port unreachable); its port is the one datagrams go to.
func udpSink(t testing.TB) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// flood sends n datagrams of size bytes to 127.0.0.1:port from workers
// goroutines, sequence numbers first..first+n-1, and returns how many the
// kernel accepted.
func flood(t testing.TB, port uint16, first, n, size, workers int) int {
	t.Helper()
	var sent atomic.Int64
	var wg sync.WaitGroup
	var next atomic.Int64
	next.Store(int64(first))
	for range workers {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, max(size, len(floodMagic)+4))
			copy(buf, floodMagic)
			for {
				seq := next.Add(1) - 1
				if seq >= int64(first+n) {
					return
				}
				binary.BigEndian.PutUint32(buf[len(floodMagic):], uint32(seq))
				if _, err := c.Write(buf); err == nil {
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(sent.Load())
}

// floodSeq is the sequence number of a captured flood datagram (Ethernet,
// IPv4, UDP to port), ok false for anything else.
func floodSeq(b []byte, port uint16) (seq uint32, ok bool) {
	if len(b) < 14+20+8 || binary.BigEndian.Uint16(b[12:]) != 0x0800 || b[14+9] != 17 {
		return 0, false
	}
	ihl := int(b[14]&0xf) * 4
	udp := b[14+ihl:]
	if len(udp) < 8+len(floodMagic)+4 || binary.BigEndian.Uint16(udp[2:]) != port {
		return 0, false
	}
	p := udp[8:]
	if !bytes.HasPrefix(p, floodMagic) {
		return 0, false
	}
	return binary.BigEndian.Uint32(p[len(floodMagic):]), true
}

// drain reads h, counting datagrams of the flood to port by sequence
// number, and other packets, until done says enough was read (or 5 s
// passed), then for another quiet spell in which nothing arrives, to catch
// extra packets. The ring hands over a block that is not full only when
// its timer fires (ringBlockTimeout, later on a loaded machine), so a
// fixed quiet spell alone would not do.
func drain(t *testing.T, h *live.Handle, port uint16, done func(seqs map[uint32]int) bool) (seqs map[uint32]int, others int) {
	t.Helper()
	seqs = map[uint32]int{}
	pkts, _ := collect(h)
	deadline := time.After(5 * time.Second)
	for !done(seqs) {
		select {
		case p := <-pkts:
			if s, ok := floodSeq(p.data, port); ok {
				seqs[s]++
			} else {
				others++
			}
		case <-deadline:
			t.Errorf("still reading after 5 s, %d datagrams read", len(seqs))
			return
		}
	}
	const quiet = 200 * time.Millisecond
	timer := time.NewTimer(quiet)
	for {
		select {
		case p := <-pkts:
			if s, ok := floodSeq(p.data, port); ok {
				seqs[s]++
			} else {
				others++
			}
			timer.Reset(quiet)
		case <-timer.C:
			return
		}
	}
}

// TestStatsCountEveryPacket sends a burst of datagrams to lo while nobody
// reads the capture, so the kernel must drop some: Stats.Received is the
// number of datagrams the senders got through (each crosses lo once, and
// the filter passes them all), Dropped is more than zero, and reading what
// was queued afterwards gives exactly Received - Dropped distinct
// datagrams. The ring (of the smallest size) also reports freezes.
func TestStatsCountEveryPacket(t *testing.T) {
	needRoot(t)
	forBackends(t, func(t *testing.T, b live.Backend) {
		port := udpSink(t)
		h, err := live.Open("lo", live.Options{Filter: udpPortFilter(t, port), Backend: b, RingSize: live.MinRingSize})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		const n = 5000
		sent := flood(t, port, 0, n, 1000, 2)
		time.Sleep(100 * time.Millisecond) // let lo's backlog reach the socket
		st, err := h.Stats()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sent %d, stats %+v", sent, st)
		if st.Received != uint64(sent) {
			t.Errorf("Received %d, senders got %d datagrams through", st.Received, sent)
		}
		if st.Dropped == 0 || st.Dropped >= st.Received {
			t.Errorf("Dropped %d of %d with nobody reading: want some, not all", st.Dropped, st.Received)
		}
		if b == live.BackendRing && st.Freezes == 0 {
			t.Errorf("ring full and no freeze counted: %+v", st)
		}
		if b == live.BackendSocket && st.Freezes != 0 {
			t.Errorf("socket backend counts freezes: %+v", st)
		}
		want := int(st.Received - st.Dropped)
		seqs, others := drain(t, h, port, func(seqs map[uint32]int) bool { return len(seqs) >= want })
		if len(seqs) != want {
			t.Errorf("read %d datagrams after the burst, stats say %d were kept", len(seqs), want)
		}
		for s, c := range seqs {
			if c != 1 || s >= n {
				t.Errorf("datagram %d read %d times", s, c)
			}
		}
		if others != 0 {
			t.Errorf("%d packets other than the flood passed the filter", others)
		}
	})
}

// TestNoEarlyPacketsUnfiltered opens the capture while datagrams stream to
// two ports on lo: none to the port the filter leaves out may be read,
// also from the moment before the filter was attached, and none twice
// (lo's outgoing copy, which only the kernel filter can tell apart: the
// ring receives nothing before its filter is attached, the socket backend
// discards what lo queued on it before). Datagrams sent once Open has
// returned are all read, unless the kernel counted drops.
func TestNoEarlyPacketsUnfiltered(t *testing.T) {
	needRoot(t)
	forBackends(t, func(t *testing.T, b live.Backend) {
		want, other := udpSink(t), udpSink(t)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var sent atomic.Int64
		for _, port := range []uint16{want, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i += 20 {
					select {
					case <-stop:
						return
					default:
					}
					sent.Add(int64(flood(t, port, i, 20, 100, 1)))
				}
			}()
		}
		for sent.Load() < 200 {
			time.Sleep(time.Millisecond)
		}
		h, err := live.Open("lo", live.Options{Filter: udpPortFilter(t, want), Backend: b})
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		const marks, firstMark = 100, 1 << 30
		flood(t, want, firstMark, marks, 100, 1)
		time.Sleep(50 * time.Millisecond) // let lo's backlog reach the socket
		st0, _ := h.Stats()
		seqs, others := drain(t, h, want, func(seqs map[uint32]int) bool {
			n := 0
			for s := range seqs {
				if s >= firstMark {
					n++
				}
			}
			// the marks, or all that the kernel kept, if it dropped some
			return n == marks || st0.Dropped > 0 && len(seqs) >= int(st0.Received-st0.Dropped)
		})
		st, _ := h.Stats()
		if others != 0 {
			t.Errorf("%d packets not to port %d passed (of %d to it)", others, want, len(seqs))
		}
		dups, seen := 0, 0
		for s, c := range seqs {
			if c > 1 {
				dups++
			}
			if s >= firstMark {
				seen++
			}
		}
		t.Logf("%d sent while opening, read %d datagrams (%d sent after Open), %d seen twice, stats %+v", sent.Load(), len(seqs), seen, dups, st)
		if dups > 0 {
			t.Errorf("%d of %d datagrams seen twice", dups, len(seqs))
		}
		if seen != marks && st.Dropped == 0 {
			t.Errorf("read %d of the %d datagrams sent after Open, and no drops counted", seen, marks)
		}
	})
}

// TestDataSurvivesClose: the bytes of the last packet Next returned stay
// readable after Close (the ring backend would fault here if it handed out
// ring memory, which Close unmaps).
func TestDataSurvivesClose(t *testing.T) {
	needRoot(t)
	forBackends(t, func(t *testing.T, b live.Backend) {
		port := udpSink(t)
		h, err := live.Open("lo", live.Options{Filter: udpPortFilter(t, port), Backend: b})
		if err != nil {
			t.Fatal(err)
		}
		flood(t, port, 7, 1, 1000, 1)
		p, err := h.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
		if s, ok := floodSeq(p.Data, port); !ok || s != 7 || len(p.Data) != 14+20+8+1000 {
			t.Errorf("after Close the packet reads seq %d ok %v, %d bytes", s, ok, len(p.Data))
		}
		if _, err := h.Next(); !errors.Is(err, live.ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	})
}

// TestRingSizes: the ring opens at its bounds and at sizes that are not a
// whole number of blocks, with small and default snap lengths, and
// refuses sizes outside the bounds naming them.
func TestRingSizes(t *testing.T) {
	needRoot(t)
	if strconv.IntSize == 32 {
		t.Skip("the ring backend needs a 64-bit platform (TestRingNeeds64Bits)")
	}
	for _, c := range []struct {
		size, snap int
		ok         bool
	}{
		{0, 0, true},
		{live.MinRingSize, 0, true},
		{live.MinRingSize, 64, true},
		{5<<20 + 12345, 0, true},
		{3<<20 + 1, 1500, true},
		{live.MinRingSize - 1, 64, false},
		{live.MaxRingSize + 1, 64, false},
		{-1, 0, false},
		{live.MinRingSize, 1 << 20, false}, // fewer than two blocks
	} {
		h, err := live.Open("lo", live.Options{Backend: live.BackendRing, RingSize: c.size, Snaplen: c.snap})
		if c.ok != (err == nil) {
			t.Errorf("ring size %d snaplen %d: %v", c.size, c.snap, err)
		}
		if err == nil {
			h.Close()
		} else if !c.ok && !strings.Contains(err.Error(), "ring size") {
			t.Errorf("ring size %d snaplen %d: error %q does not name the ring size", c.size, c.snap, err)
		}
	}
}

// TestParseBackend reads the flag values.
func TestParseBackend(t *testing.T) {
	for in, want := range map[string]live.Backend{"": live.BackendSocket, "socket": live.BackendSocket, "ring": live.BackendRing} {
		if got, err := live.ParseBackend(in); err != nil || got != want {
			t.Errorf("ParseBackend(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"Ring", "tpacket", "pcap"} {
		if _, err := live.ParseBackend(in); err == nil || !strings.Contains(err.Error(), `"socket" or "ring"`) {
			t.Errorf("ParseBackend(%q): %v", in, err)
		}
	}
	if _, err := live.Open("lo", live.Options{Backend: "bogus"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("Open with backend bogus: %v", err)
	}
}
