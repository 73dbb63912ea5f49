//go:build linux

package filter

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func attach(fd int, prog []bpf.RawInstruction) error {
	fs := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		fs[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(fs)), Filter: &fs[0]})
}

// TestKernelAgrees attaches each compiled program to an AF_PACKET socket
// on the loopback interface, sends the synthetic Ethernet frames and
// checks that the kernel keeps exactly the frames Match keeps. It needs
// CAP_NET_RAW and skips without it (it is the only check that the
// kernel's BPF checker accepts the programs).
func TestKernelAgrees(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	rx, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Skipf("AF_PACKET socket: %v (needs CAP_NET_RAW)", err)
	}
	defer unix.Close(rx)
	tx, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tx)
	dropAll := []bpf.RawInstruction{{Op: 0x06, K: 0}}
	if err := attach(rx, dropAll); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(rx, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2}); err != nil {
		t.Fatal(err)
	}
	to := &unix.SockaddrLinklayer{Ifindex: lo.Index, Halen: 6}

	ps := netPackets(t)
	var frames [][]byte
	for _, p := range ps {
		b, _ := wrap(t, layers.LinkTypeEthernet, p)
		frames = append(frames, b)
	}
	frames = append(frames, vlanFrames(t, ps)...)
	sentinelSrc := net.HardwareAddr{0x02, 0, 0x5e, 0x10, 0x20, 0x99}
	sentinel := ser(t, &layers.Ethernet{SrcMAC: sentinelSrc, DstMAC: macX, EthernetType: 0x88b5}, gopacket.Payload("tlsscope filter test"))

	buf := make([]byte, 70000)
	drain := func() {
		for {
			if _, _, err := unix.Recvfrom(rx, buf, unix.MSG_DONTWAIT); err != nil {
				return
			}
		}
	}
	drain()
	total := 0
	defer func() {
		if total < 200 {
			t.Errorf("the kernel kept only %d frames over all expressions: the test proves little", total)
		}
		t.Logf("the kernel kept %d frames over all expressions", total)
	}()
	for _, expr := range oracleExprs {
		if expr == "" {
			continue
		}
		// The sentinel clause tests only link-layer bytes, which vlan
		// does not shift, so it leaves the verdicts on the test frames
		// as they are.
		f, err := Parse("(" + expr + ") or ether src " + sentinelSrc.String())
		if err != nil {
			t.Fatal(err)
		}
		prog, err := f.Compile(layers.LinkTypeEthernet, 65535)
		if err != nil {
			t.Fatal(err)
		}
		if err := attach(rx, dropAll); err != nil {
			t.Fatal(err)
		}
		drain()
		if err := attach(rx, prog); err != nil {
			t.Fatalf("%q: the kernel refuses the program: %v", expr, err)
		}
		for _, fr := range append(frames, sentinel) {
			if err := unix.Sendto(tx, fr, 0, to); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		got := map[string]bool{}
		sawSentinel := false
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			n, from, err := unix.Recvfrom(rx, buf, 0)
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			// The copy seen on the way out is the frame as sent; the one
			// coming back in has had its VLAN tag moved out of the data.
			if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
				continue
			}
			if string(buf[:n]) == string(sentinel) {
				sawSentinel = true
				break
			}
			got[string(buf[:n])] = true
		}
		if !sawSentinel {
			t.Fatalf("%q: the sentinel frame never came back", expr)
		}
		total += len(got)
		for i, fr := range frames {
			if want := f.Match(layers.LinkTypeEthernet, fr); got[string(fr)] != want {
				t.Errorf("%q: frame %d: kernel keeps it: %v, Match: %v", expr, i, got[string(fr)], want)
			}
		}
	}
}
