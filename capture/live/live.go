// Package live captures packets from a network interface: AF_PACKET
// sockets through gopacket's pcapgo.EthernetHandle (pure Go, Linux only),
// with a classic BPF filter attached in the kernel so unwanted packets
// never reach user space.
//
// A Handle is read with Next, like a capture.File. To stop a Next that is
// waiting for a packet, call Close from another goroutine: Next then
// returns ErrClosed, within milliseconds (the socket is non-blocking and
// waits in Go's network poller, which Close wakes). There is no read
// timeout.
//
// It does not compile filters (capture/filter does) or decode packets.
// On other systems Open returns ErrUnsupported; Interfaces works everywhere.
package live

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/bpf"
)

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
}

// Stats are the kernel's counters for a Handle since it was opened.
type Stats struct {
	Received uint64 // packets that passed the filter, including those dropped
	Dropped  uint64 // packets the kernel dropped because the socket buffer was full
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
