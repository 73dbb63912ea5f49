//go:build linux

package live

import (
	"errors"
	"fmt"
	"net"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tlsscope/tlsscope/capture"
)

// anyWait is how long one read of the any socket waits before it looks
// whether Close was called (its socket is not in Go's network poller).
const anyWait = 100 * time.Millisecond

// anySocket captures on every interface: one AF_PACKET socket bound to no
// interface, of type SOCK_DGRAM, so that each packet comes without its
// link-layer header, whatever the interface's hardware (Ethernet, loopback,
// tun, PPP). Packets are handed out as raw IP (LinkTypeRaw), the filter is
// compiled for that link type and run by the kernel on the IP header, and
// packets that are not IPv4 or IPv6 are skipped. On loopback the kernel
// delivers each packet twice; the outgoing copy is dropped by the filter's
// prefix (anyProgram).
type anySocket struct {
	fd  int
	buf []byte
	oob []byte
}

// openAny opens the any socket: made with protocol 0 (it receives
// nothing), the filter attached, then bound to every interface, so no
// packet that arrived before the filter is queued.
func openAny(opts Options) (*Handle, error) {
	backend, err := ParseBackend(string(opts.Backend))
	if err != nil {
		return nil, fmt.Errorf("cannot capture on any: %w", err)
	}
	if backend == BackendRing {
		return nil, fmt.Errorf("cannot capture on any with the ring backend: it reads one interface; use --capture-backend socket or name an interface")
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, openError(AnyInterface, "opening a packet socket", err)
	}
	fail := func(what string, err error) (*Handle, error) {
		unix.Close(fd)
		return nil, openError(AnyInterface, what, err)
	}
	snap := snaplen(opts)
	prog, err := anyProgram(opts.Filter, loopbackIndexes(), snap)
	if err != nil {
		return fail("building the filter", err)
	}
	if len(prog) > 0 {
		fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
			return fail("attaching the filter", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("turning on timestamps", err)
	}
	tv := unix.NsecToTimeval(anyWait.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("setting the read timeout", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: 0}); err != nil {
		return fail("binding to every interface", err)
	}
	a := &anySocket{fd: fd, buf: make([]byte, snap), oob: make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))}
	return &Handle{any: a, name: AnyInterface, lt: layers.LinkTypeRaw}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// loopbackIndexes lists the interface indexes of the loopback interfaces.
func loopbackIndexes() []int {
	ifs, _ := net.Interfaces()
	var out []int
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			out = append(out, i.Index)
		}
	}
	return out
}

// anyProgram is the any socket's filter: a prefix dropping the outgoing
// copy of a packet on a loopback interface (ifindex in lo), then the
// user's program, or one accepting snap bytes of everything.
func anyProgram(user []bpf.RawInstruction, lo []int, snap int) ([]bpf.RawInstruction, error) {
	if len(user) == 0 {
		user = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: uint32(snap)}}
	}
	if len(lo) == 0 {
		return user, nil
	}
	if len(lo) > 200 {
		lo = lo[:200] // jumps reach at most 255 instructions
	}
	ins := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 0, SkipFalse: uint8(len(lo) + 3)},
		bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
	}
	for i, idx := range lo {
		// A match jumps to the drop after the last comparison.
		ins = append(ins, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(idx), SkipTrue: uint8(len(lo) - i)})
	}
	ins = append(ins, bpf.Jump{Skip: 1}, bpf.RetConstant{Val: 0})
	prefix, err := bpf.Assemble(ins)
	if err != nil {
		return nil, err
	}
	if len(prefix)+len(user) > bpfMaxInsns {
		return nil, fmt.Errorf("the filter has %d instructions, more than the kernel's %d", len(user), bpfMaxInsns-len(prefix))
	}
	return append(prefix, user...), nil
}

// next reads the next IPv4 or IPv6 packet.
func (a *anySocket) next(h *Handle) (capture.Packet, error) {
	for {
		if h.closed.Load() {
			return capture.Packet{}, ErrClosed
		}
		n, oobn, _, from, err := unix.Recvmsg(a.fd, a.buf, a.oob, unix.MSG_TRUNC)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if h.closed.Load() {
				return capture.Packet{}, ErrClosed
			}
			return capture.Packet{}, fmt.Errorf("capturing on any: %w", err)
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || (ll.Protocol != htons(unix.ETH_P_IP) && ll.Protocol != htons(unix.ETH_P_IPV6)) {
			continue // ARP, LLDP, ...: not IP
		}
		ci := gopacket.CaptureInfo{Length: n, CaptureLength: min(n, len(a.buf)), InterfaceIndex: ll.Ifindex}
		ci.Timestamp = stamp(a.oob[:oobn])
		return capture.Packet{Data: a.buf[:ci.CaptureLength], Info: ci, LinkType: h.lt}, nil
	}
}

// stamp is the kernel's receive time from the SO_TIMESTAMPNS control
// message, or now when there is none.
func stamp(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(int64(ts.Sec), int64(ts.Nsec)).UTC() // int32 fields on 32-bit systems
			}
		}
	}
	return time.Now().UTC()
}

// readStats adds the kernel's counters since the last read.
func (a *anySocket) readStats(h *Handle) (Stats, error) {
	s, err := unix.GetsockoptTpacketStats(a.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return h.stats, fmt.Errorf("reading capture statistics of any: %w", err)
	}
	h.stats.Received += uint64(s.Packets)
	h.stats.Dropped += uint64(s.Drops)
	return h.stats, nil
}

func (a *anySocket) close() error { return unix.Close(a.fd) }
