//go:build linux

package live_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/live"
)

// needRoot skips a test that opens packet sockets unless it runs as root
// (this machine and CI do).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("live capture tests need root under CI=true")
		}
		t.Skip("live capture needs root")
	}
}

// tcpPortFilter is "ip and tcp and port P" for Ethernet frames, assembled
// by hand (as tcpdump -dd would compile it, without the IPv6 branch).
func tcpPortFilter(t *testing.T, port uint16) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // ethertype
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 10},
		/* 2 */ bpf.LoadAbsolute{Off: 23, Size: 1}, // IPv4 protocol
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipFalse: 8},
		/* 4 */ bpf.LoadAbsolute{Off: 20, Size: 2}, // fragment offset
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 6},
		/* 6 */ bpf.LoadMemShift{Off: 14}, // X = IPv4 header length
		/* 7 */ bpf.LoadIndirect{Off: 14, Size: 2}, // TCP source port
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipTrue: 2},
		/* 9 */ bpf.LoadIndirect{Off: 16, Size: 2}, // TCP destination port
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipFalse: 1},
		/* 11 */ bpf.RetConstant{Val: 262144},
		/* 12 */ bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// tcpSegment is what the test needs of a captured frame.
type tcpSegment struct {
	src, dst uint16
	payload  []byte
}

// parseFrame reads an Ethernet/IPv4/TCP frame; ok is false for anything else.
func parseFrame(b []byte) (seg tcpSegment, ok bool) {
	if len(b) < 14+20 || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
		return seg, false
	}
	ip := b[14:]
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[9] != 6 || ihl < 20 || total > len(ip) || total < ihl+20 {
		return seg, false
	}
	tcp := ip[ihl:total]
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return seg, false
	}
	return tcpSegment{binary.BigEndian.Uint16(tcp), binary.BigEndian.Uint16(tcp[2:]), tcp[off:]}, true
}

type captured struct {
	data []byte
	ts   time.Time
}

// collect reads packets until Next fails, sending copies on a channel.
func collect(h *live.Handle) (<-chan captured, <-chan error) {
	ch := make(chan captured, 1024)
	done := make(chan error, 1)
	go func() {
		defer close(ch)
		for {
			p, err := h.Next()
			if err != nil {
				done <- err
				return
			}
			ch <- captured{append([]byte(nil), p.Data...), p.Info.Timestamp}
		}
	}()
	return ch, done
}

// listen starts a TCP listener on 127.0.0.1 that reads everything sent to
// it.
func listen(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

func send(t *testing.T, port uint16, payload []byte) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// backends are the capture backends every behaviour test runs on: the
// ring only on 64-bit platforms (see TestRingNeeds64Bits).
var backends = func() []live.Backend {
	if strconv.IntSize == 32 {
		return []live.Backend{live.BackendSocket}
	}
	return []live.Backend{live.BackendSocket, live.BackendRing}
}()

// TestRingNeeds64Bits: on a 32-bit platform, where gopacket's afpacket
// panics on its first packet, opening the ring is an error that says so
// and names the socket backend instead.
func TestRingNeeds64Bits(t *testing.T) {
	needRoot(t)
	h, err := live.Open("lo", live.Options{Backend: live.BackendRing})
	if strconv.IntSize == 64 {
		if err != nil {
			t.Fatalf("64-bit: %v", err)
		}
		h.Close()
		return
	}
	if err == nil {
		h.Close()
		t.Fatal("32-bit: the ring opened")
	}
	if !strings.Contains(err.Error(), "64-bit") || !strings.Contains(err.Error(), "socket backend") {
		t.Errorf("32-bit: error %q does not say why, or what to use instead", err)
	}
}

// forBackends runs test once per backend, as a subtest named after it.
func forBackends(t *testing.T, test func(t *testing.T, b live.Backend)) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) { test(t, b) })
	}
}

// TestLoopbackCaptureFiltered captures on lo with a kernel filter for one
// port: the payload sent to that port is seen exactly once (lo delivers
// every packet twice to packet sockets; the outgoing copy is dropped), a
// payload sent to another port at the same time never reaches user space,
// every frame has lo's fake Ethernet header, and Stats counts what passed.
func TestLoopbackCaptureFiltered(t *testing.T) {
	needRoot(t)
	forBackends(t, testLoopbackCaptureFiltered)
}

func testLoopbackCaptureFiltered(t *testing.T, backend live.Backend) {
	_, port := listen(t)
	_, other := listen(t)
	h, err := live.Open("lo", live.Options{Filter: tcpPortFilter(t, port), Promisc: true, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("link type %v on lo, want Ethernet", h.LinkType())
	}
	pkts, done := collect(h)

	want := []byte(fmt.Sprintf("tlsscope live test %d %d", os.Getpid(), time.Now().UnixNano()))
	unwanted := []byte("tlsscope: this must be filtered out by the kernel")
	send(t, other, unwanted)
	send(t, port, want)
	send(t, other, unwanted)

	var got []captured
	seen := 0
	deadline := time.After(5 * time.Second)
	quiet := time.NewTimer(time.Hour)
wait:
	for {
		select {
		case p := <-pkts:
			got = append(got, p)
			if seg, ok := parseFrame(p.data); ok && bytes.Contains(seg.payload, want) {
				seen++
				quiet.Reset(300 * time.Millisecond) // let the FINs and any duplicate arrive
			}
		case <-quiet.C:
			break wait
		case <-deadline:
			break wait
		}
	}
	// The ring hands over a partly filled block when its timer fires,
	// which can take longer than the quiet spell: read until what the
	// kernel kept is in.
	st, err := h.Stats()
	catchUp := time.After(3 * time.Second)
	for err == nil && st.Received-st.Dropped > uint64(len(got)) {
		select {
		case p := <-pkts:
			got = append(got, p)
			if seg, ok := parseFrame(p.data); ok && bytes.Contains(seg.payload, want) {
				seen++
			}
			st, err = h.Stats()
		case <-catchUp:
			t.Fatalf("stats %+v, only %d packets read after 3 s", st, len(got))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if seen != 1 {
		t.Fatalf("payload seen %d times in %d packets, want once", seen, len(got))
	}
	for i, p := range got {
		seg, ok := parseFrame(p.data)
		if !ok {
			t.Errorf("packet %d is not Ethernet/IPv4/TCP: % x", i, p.data[:min(len(p.data), 40)])
			continue
		}
		if seg.src != port && seg.dst != port {
			t.Errorf("packet %d: ports %d -> %d passed a filter for port %d", i, seg.src, seg.dst, port)
		}
		if bytes.Contains(seg.payload, unwanted) {
			t.Errorf("packet %d carries the payload sent to port %d", i, other)
		}
		if !bytes.Equal(p.data[:12], make([]byte, 12)) {
			t.Errorf("packet %d: lo's Ethernet addresses are % x, want zeros", i, p.data[:12])
		}
		if p.ts.IsZero() || time.Since(p.ts) > time.Minute || time.Until(p.ts) > time.Second {
			t.Errorf("packet %d: timestamp %v", i, p.ts)
		}
		if i > 0 && p.ts.Before(got[i-1].ts) {
			t.Errorf("packet %d: timestamp %v before the previous one's %v", i, p.ts, got[i-1].ts)
		}
	}
	// A TCP connection is at least SYN, SYN-ACK, ACK, data, and FINs.
	if len(got) < 5 {
		t.Errorf("only %d packets of the connection", len(got))
	}
	if st.Received < uint64(len(got)) || st.Received > uint64(len(got))+4 || st.Dropped > st.Received {
		t.Errorf("stats %+v after reading %d packets", st, len(got))
	}
	h.Close()
	if err := <-done; !errors.Is(err, live.ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
	if st2, err := h.Stats(); err != nil || st2.Received < st.Received {
		t.Errorf("Stats after Close: %+v %v", st2, err)
	}
}

// TestCloseInterruptsNext: a Next waiting on a quiet socket returns
// ErrClosed within a second of Close from another goroutine.
func TestCloseInterruptsNext(t *testing.T) {
	needRoot(t)
	forBackends(t, testCloseInterruptsNext)
}

func testCloseInterruptsNext(t *testing.T, backend live.Backend) {
	nothing, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	h, err := live.Open("lo", live.Options{Filter: nothing, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := h.Next()
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("Next returned before Close: %v", err)
	default:
	}
	start := time.Now()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, live.ErrClosed) {
			t.Errorf("Next: %v, want ErrClosed", err)
		}
		t.Logf("Next returned %v after Close", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("Next still blocked a second after Close")
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOpenUnknownInterface names the interface and wraps ErrNoInterface.
func TestOpenUnknownInterface(t *testing.T) {
	_, err := live.Open("tlsscope-nope0", live.Options{})
	if !errors.Is(err, live.ErrNoInterface) || !strings.Contains(err.Error(), "tlsscope-nope0") || !strings.Contains(err.Error(), "--list-interfaces") {
		t.Errorf("got %v", err)
	}
}

// TestInterfaces checks the list against /sys/class/net.
func TestInterfaces(t *testing.T) {
	ifs, err := live.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Skip(err)
	}
	if len(ifs) != len(ents) {
		t.Errorf("%d interfaces, /sys/class/net has %d", len(ifs), len(ents))
	}
	for _, i := range ifs {
		b, err := os.ReadFile("/sys/class/net/" + i.Name + "/ifindex")
		if err != nil {
			t.Errorf("%s: %v", i.Name, err)
			continue
		}
		if idx, _ := strconv.Atoi(strings.TrimSpace(string(b))); idx != i.Index {
			t.Errorf("%s: index %d, sysfs %d", i.Name, i.Index, idx)
		}
		if i.Name == "lo" {
			if !i.Loopback || !i.Up || !strings.Contains(fmt.Sprint(i.Addrs), "127.0.0.1/8") {
				t.Errorf("lo: %+v", i)
			}
		}
	}
	if lt, err := live.LinkType("lo"); err != nil || lt != layers.LinkTypeEthernet {
		t.Errorf("LinkType(lo) = %v, %v", lt, err)
	}
}

// TestDropPrivileges runs in a child process (dropping privileges cannot be
// undone): it opens lo as root, drops to nobody, and checks that the ids
// changed, that a new capture is refused with the setcap hint, and that
// the open socket still captures.
func TestDropPrivileges(t *testing.T) {
	if os.Getenv("TLSSCOPE_LIVE_DROP_CHILD") == "1" {
		dropChild(t)
		return
	}
	needRoot(t)
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropPrivileges$", "-test.v")
	cmd.Env = append(os.Environ(), "TLSSCOPE_LIVE_DROP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDropPrivileges") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func dropChild(t *testing.T) {
	nobody, _ := user.Lookup("nobody")
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	hs := map[live.Backend]*live.Handle{}
	for _, b := range backends {
		h, err := live.Open("lo", live.Options{Filter: udpPortFilter(t, uint16(port)), Backend: b})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		hs[b] = h
	}
	if err := live.DropPrivileges("nobody"); err != nil {
		t.Fatal(err)
	}
	if uid := strconv.Itoa(os.Getuid()); uid != nobody.Uid {
		t.Fatalf("uid %s after dropping to nobody (%s)", uid, nobody.Uid)
	}
	if gid := strconv.Itoa(os.Getgid()); gid != nobody.Gid {
		t.Fatalf("gid %s after dropping to nobody (%s)", gid, nobody.Gid)
	}
	if groups, _ := os.Getgroups(); len(groups) > 0 && strconv.Itoa(groups[0]) != nobody.Gid {
		t.Errorf("supplementary groups %v", groups)
	}
	for _, b := range backends {
		_, err = live.Open("lo", live.Options{Backend: b})
		if !errors.Is(err, live.ErrPermission) || !strings.Contains(err.Error(), "setcap cap_net_raw,cap_net_admin=eip") {
			t.Fatalf("Open %s as nobody: %v, want ErrPermission with the setcap hint", b, err)
		}
	}
	c, err := net.Dial("udp", ln.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("still capturing"))
	c.Close()
	for _, b := range backends {
		pkts, _ := collect(hs[b])
		select {
		case p := <-pkts:
			if !bytes.Contains(p.data, []byte("still capturing")) {
				t.Errorf("%s captured % x", b, p.data)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s: nothing captured on the socket opened before dropping privileges", b)
		}
	}
}

// udpPortFilter is "ip and udp dst port P" for Ethernet frames.
func udpPortFilter(t testing.TB, port uint16) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 6},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 4},
		bpf.LoadMemShift{Off: 14},
		bpf.LoadIndirect{Off: 16, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestSnaplen: packets are cut to the snap length; Info.Length keeps the
// length on the wire.
func TestSnaplen(t *testing.T) {
	needRoot(t)
	forBackends(t, testSnaplen)
}

func testSnaplen(t *testing.T, backend live.Backend) {
	_, port := listen(t)
	h, err := live.Open("lo", live.Options{Snaplen: 64, Filter: tcpPortFilter(t, port), Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	pkts, _ := collect2(h)
	send(t, port, bytes.Repeat([]byte("x"), 1000))
	long := false
	timeout := time.After(5 * time.Second)
	for !long {
		select {
		case p := <-pkts:
			if len(p.Data) > 64 || p.Info.CaptureLength != len(p.Data) {
				t.Fatalf("%d bytes captured (caplen %d) with snaplen 64", len(p.Data), p.Info.CaptureLength)
			}
			long = p.Info.Length > 1000
		case <-timeout:
			t.Fatal("no packet with the 1000-byte payload")
		}
	}
}

// collect2 is collect keeping the capture info.
func collect2(h *live.Handle) (<-chan capture.Packet, <-chan error) {
	ch := make(chan capture.Packet, 1024)
	done := make(chan error, 1)
	go func() {
		defer close(ch)
		for {
			p, err := h.Next()
			if err != nil {
				done <- err
				return
			}
			p.Data = append([]byte(nil), p.Data...)
			ch <- p
		}
	}()
	return ch, done
}
