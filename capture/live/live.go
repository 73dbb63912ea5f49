// Package live captures packets from a network interface on Linux, in
// pure Go, through one of two backends behind the same Handle:
//
//   - BackendSocket (the default): an AF_PACKET socket read with one
//     recvmsg per packet, through gopacket's pcapgo.EthernetHandle. The
//     kernel queues packets in the socket's receive buffer
//     (net.core.rmem_default, about 200 KiB), so a burst the reader cannot
//     keep up with is dropped early.
//   - BackendRing: a memory-mapped TPACKET_V3 ring (gopacket's afpacket)
//     of Options.RingSize bytes (DefaultRingSize, 32 MiB), which the kernel
//     fills in blocks and the reader walks without a system call per
//     packet. Next copies each packet out of the ring (see Handle.Next).
//     The kernel hands over a block when it is full or its timer (64 ms)
//     fires, so on a quiet link packets arrive in batches, that much later.
//
// Both attach the classic BPF filter in the kernel so unwanted packets never
// reach user space, drop the outgoing copy of every packet on a loopback
// interface (the kernel delivers packets there twice), cut packets to the
// snap length and read the kernel's counters (Stats). Neither returns a
// packet that arrived before the filter was attached: the ring receives
// nothing until then, the socket backend discards what it queued.
//
// AnyInterface ("any", tcpdump's -i any) is a third reader: one SOCK_DGRAM
// packet socket bound to every interface, giving raw IP packets whatever
// each interface's hardware, with the filter (compiled for raw IP) run by
// the kernel and loopback's outgoing copies dropped (anySocket).
//
// A Handle is read with Next, like a capture.File. To stop a Next that is
// waiting for a packet, call Close from another goroutine: Next then
// returns ErrClosed within milliseconds (both wait in Go's network poller,
// which Close wakes). There is no read timeout.
//
// It does not compile filters (capture/filter does) or decode packets.
// On other systems Open returns ErrUnsupported; Interfaces works everywhere.
package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// AnyInterface is the name that captures on every interface at once, as
// tcpdump's -i any does (Linux), as raw IP packets.
const AnyInterface = "any"

// DefaultSnaplen is the snap length when Options.Snaplen is 0: libpcap's
// MAXIMUM_SNAPLEN, enough for any frame including offloaded ones.
const DefaultSnaplen = 262144

// Options of a live capture.
type Options struct {
	Snaplen int  // bytes kept of each packet; 0 means DefaultSnaplen
	Promisc bool // put the interface in promiscuous mode
	// Filter is a classic BPF program (from filter.Compile for the
	// handle's LinkType) run by the kernel; nil captures everything.
	Filter []bpf.RawInstruction
	// There is no read timeout: Next waits until a packet arrives or Close
	// is called (pcapgo.EthernetHandle does not expose its socket, so no
	// deadline can be set on it).

	// Backend reads the interface; "" means BackendSocket.
	Backend Backend
	// RingSize is the ring backend's buffer in bytes, rounded down to whole
	// blocks; 0 means DefaultRingSize. It must lie within
	// [MinRingSize, MaxRingSize]. The socket backend ignores it.
	RingSize int
}

// Backend is how a Handle reads its interface. ParseBackend reads one from
// a flag.
type Backend string

// Backends.
const (
	// BackendSocket reads an AF_PACKET socket, one recvmsg per packet.
	BackendSocket Backend = "socket"
	// BackendRing reads a memory-mapped TPACKET_V3 ring of Options.RingSize
	// bytes.
	BackendRing Backend = "ring"
)

// Bounds of Options.RingSize. The kernel allocates the ring up front,
// unswappable; 1 GiB is far beyond what a 10 Gb/s link fills in a second of
// stalled reading, 1 MiB still holds a couple of default-snaplen blocks.
const (
	DefaultRingSize = 32 << 20
	MinRingSize     = 1 << 20
	MaxRingSize     = 1 << 30
)

// ParseBackend reads a backend name as a --capture-backend flag would give
// it: "socket" or "ring" ("" is the default, socket).
func ParseBackend(s string) (Backend, error) {
	switch Backend(s) {
	case "", BackendSocket:
		return BackendSocket, nil
	case BackendRing:
		return BackendRing, nil
	}
	return "", fmt.Errorf("unknown capture backend %q: want %q or %q", s, BackendSocket, BackendRing)
}

// Stats are the kernel's counters for a Handle since it was opened.
type Stats struct {
	Received uint64 // packets that passed the filter, including those dropped
	Dropped  uint64 // packets the kernel dropped because the socket buffer (or ring) was full
	// Freezes counts the times the ring backend's kernel side found the
	// ring full and stopped filling it until the reader released a block
	// (TPACKET_V3's tp_freeze_q_cnt); always 0 for the socket backend.
	Freezes uint64
}

var (
	// ErrClosed is returned by Next once Close has been called.
	ErrClosed = errors.New("live capture closed")
	// ErrUnsupported is returned by Open on systems other than Linux.
	ErrUnsupported = errors.New("live capture is supported on Linux only")
	// ErrPermission is wrapped by Open's error when the process may not
	// open a packet socket.
	ErrPermission = errors.New("permission denied")
	// ErrNoInterface is wrapped by Open's error for an unknown interface.
	ErrNoInterface = errors.New("no such interface")
)

// permissionHint says how to grant capture rights.
const permissionHint = "live capture needs CAP_NET_RAW: run as root, or grant it once with: sudo setcap cap_net_raw,cap_net_admin=eip $(which tlsscope)"

// Interface is a network interface, for --list-interfaces.
type Interface struct {
	Index        int
	Name         string
	HardwareAddr string
	Addrs        []netip.Prefix
	Up           bool
	Loopback     bool
	Running      bool
	Flags        net.Flags
}

// String is the interface as tcpdump -D prints it: index, name, state
// and addresses ("1.lo [Up, Running, Loopback] 127.0.0.1/8 ::1/128").
func (i Interface) String() string {
	var flags []string
	if i.Up {
		flags = append(flags, "Up")
	}
	if i.Running {
		flags = append(flags, "Running")
	}
	if i.Loopback {
		flags = append(flags, "Loopback")
	}
	s := fmt.Sprintf("%d.%s [%s]", i.Index, i.Name, strings.Join(flags, ", "))
	for _, a := range i.Addrs {
		s += " " + a.String()
	}
	return s
}

// WriteInterfaces prints the system's interfaces a line each, as tcpdump
// -D does (Interface.String). Its error says "listing interfaces: ...".
func WriteInterfaces(w io.Writer) error {
	ifs, err := Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %v", err)
	}
	for _, i := range ifs {
		if _, err := fmt.Fprintln(w, i); err != nil {
			return err
		}
	}
	return nil
}

// Interfaces lists the system's network interfaces in index order.
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		i := Interface{
			Index:        ifc.Index,
			Name:         ifc.Name,
			HardwareAddr: ifc.HardwareAddr.String(),
			Up:           ifc.Flags&net.FlagUp != 0,
			Loopback:     ifc.Flags&net.FlagLoopback != 0,
			Running:      ifc.Flags&net.FlagRunning != 0,
			Flags:        ifc.Flags,
		}
		addrs, err := ifc.Addrs()
		if err == nil {
			for _, a := range addrs {
				if pn, ok := a.(*net.IPNet); ok {
					if p, err := netip.ParsePrefix(pn.String()); err == nil {
						i.Addrs = append(i.Addrs, p)
					}
				}
			}
		}
		out = append(out, i)
	}
	return out, nil
}
