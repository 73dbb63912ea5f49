//go:build linux

package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tlsscope/tlsscope/capture"
)

// Handle is an open live capture. Next must not be called concurrently;
// Close and Stats may be called from any goroutine.
type Handle struct {
	eh   *pcapgo.EthernetHandle // the socket backend, or nil
	ring *ring                  // the ring backend, or nil
	any  *anySocket             // every interface (AnyInterface), or nil
	name string
	lt   layers.LinkType

	closed atomic.Bool

	// early is the number of packets the socket queued before its filter
	// was attached, which Next discards (see discardEarly).
	early uint64

	mu    sync.Mutex
	stats Stats
}

// ARPHRD_* hardware types (include/uapi/linux/if_arp.h).
const (
	arphrdEther    = 1
	arphrdPPP      = 512
	arphrdLoopback = 772
	arphrdNone     = 65534 // tun, WireGuard
)

// LinkType is the link type packets captured on iface will have, for
// compiling a filter before Open: Ethernet for Ethernet and loopback
// interfaces (the kernel gives loopback frames an Ethernet header with
// zero addresses), raw IP for tun and PPP interfaces.
func LinkType(iface string) (layers.LinkType, error) {
	if iface == AnyInterface {
		return layers.LinkTypeRaw, nil // see anySocket
	}
	if _, err := net.InterfaceByName(iface); err != nil {
		return 0, fmt.Errorf("cannot capture on %q: %w (list them with --list-interfaces)", iface, ErrNoInterface)
	}
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return 0, fmt.Errorf("cannot capture on %s: reading its hardware type: %w", iface, err)
	}
	t, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("cannot capture on %s: hardware type %q", iface, b)
	}
	switch t {
	case arphrdEther, arphrdLoopback:
		return layers.LinkTypeEthernet, nil
	case arphrdNone, arphrdPPP:
		return layers.LinkTypeRaw, nil
	}
	return 0, fmt.Errorf("cannot capture on %s: its hardware type %d (ARPHRD) is not supported; supported: Ethernet, loopback, tun/WireGuard, PPP", iface, t)
}

// Open starts capturing on iface. The filter is attached before Open
// returns; packets that arrived earlier are filtered in user space.
func Open(iface string, opts Options) (*Handle, error) {
	if iface == AnyInterface {
		if err := checkPermission(iface); err != nil {
			return nil, err
		}
		return openAny(opts)
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %q: %w (list them with --list-interfaces)", iface, ErrNoInterface)
	}
	lt, err := LinkType(iface)
	if err != nil {
		return nil, err
	}
	backend, err := ParseBackend(string(opts.Backend))
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %s: %w", iface, err)
	}
	if err := checkPermission(iface); err != nil {
		return nil, err
	}
	if backend == BackendRing {
		return openRing(ifc, lt, opts)
	}
	eh, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %s: %v", iface, err)
	}
	h := &Handle{eh: eh, name: iface, lt: lt}
	fail := func(what string, err error) (*Handle, error) {
		eh.Close()
		return nil, openError(iface, what, err)
	}
	snap := snaplen(opts)
	if err := eh.SetCaptureLength(snap); err != nil {
		return fail("setting the snap length", err)
	}
	prog, err := program(opts.Filter, ifc.Flags&net.FlagLoopback != 0, snap)
	if err != nil {
		return fail("building the filter", err)
	}
	if len(prog) > 0 {
		early, err := discardEarly(eh)
		if err != nil {
			return fail("attaching the filter", err)
		}
		if err := eh.SetBPF(prog); err != nil {
			return fail("attaching the filter", err)
		}
		h.early = early
	}
	if opts.Promisc {
		if err := eh.SetPromiscuous(true); err != nil {
			return fail("enabling promiscuous mode", err)
		}
	}
	return h, nil
}

// rejectAll is a filter that accepts nothing.
var rejectAll = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}

// discardEarly closes the socket of eh to every packet with a filter
// accepting none and returns how many it queued until then, unfiltered
// (on loopback both copies of each packet). Next skips that many, the
// first in the queue, once the real filter is on. The kernel's counters
// are read (which resets them) while nothing can be queued, so they count
// exactly the early packets (tp_packets includes tp_drops, which were not
// queued), and Stats starts from zero. Filtering them in user space
// instead would need the direction of each packet, which pcapgo does not
// give, and their timestamps, which the kernel sets at read time when it
// had not yet turned timestamping on.
func discardEarly(eh *pcapgo.EthernetHandle) (uint64, error) {
	if err := eh.SetBPF(rejectAll); err != nil {
		return 0, err
	}
	s, err := eh.Stats()
	if err != nil {
		return 0, err
	}
	if s.Drops > s.Packets {
		return 0, nil
	}
	return uint64(s.Packets - s.Drops), nil
}

// openError is Open's error for a step that failed, with the setcap hint
// when the kernel refused permission.
func openError(iface, what string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("cannot capture on %s: %s: %w; %s", iface, what, ErrPermission, permissionHint)
	}
	return fmt.Errorf("cannot capture on %s: %s: %w", iface, what, err)
}

// snaplen is Options.Snaplen or its default.
func snaplen(opts Options) int {
	if opts.Snaplen <= 0 {
		return DefaultSnaplen
	}
	return opts.Snaplen
}

// checkPermission opens (and closes) a packet socket that receives
// nothing, to tell a missing capability from other failures: pcapgo's
// error does not wrap the errno.
func checkPermission(iface string) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return fmt.Errorf("cannot capture on %s: %w; %s", iface, ErrPermission, permissionHint)
		}
		return fmt.Errorf("cannot capture on %s: opening a packet socket: %w", iface, err)
	}
	unix.Close(fd)
	return nil
}

// packetOutgoing is skb->pkt_type (read in classic BPF by the ancillary
// load SKF_AD_OFF + SKF_AD_PKTTYPE) of a packet the host sent.
const packetOutgoing = 4

// bpfMaxInsns is the kernel's BPF_MAXINSNS.
const bpfMaxInsns = 4096

// program is the filter attached to the socket: the user's, and on a
// loopback interface a prefix dropping outgoing packets, which the kernel
// delivers there twice (once outgoing, once incoming), as libpcap does.
// The prefix comes first so that no jump has to cross the user's program
// (classic BPF jumps reach at most 255 instructions).
func program(user []bpf.RawInstruction, loopback bool, snap int) ([]bpf.RawInstruction, error) {
	if !loopback {
		return user, nil
	}
	prefix, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		return nil, err
	}
	if len(user) == 0 {
		all, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(snap)}})
		if err != nil {
			return nil, err
		}
		user = all
	}
	if len(prefix)+len(user) > bpfMaxInsns {
		return nil, fmt.Errorf("the filter has %d instructions, more than the kernel's %d", len(user), bpfMaxInsns-len(prefix))
	}
	return append(prefix, user...), nil
}

// Name is the interface captured on.
func (h *Handle) Name() string { return h.name }

// LinkType of every packet Next returns.
func (h *Handle) LinkType() layers.LinkType { return h.lt }

// Next waits for the next packet. Packet.Data is valid until the next call
// (also after Close: the ring backend copies each packet out of the ring,
// which Close unmaps, into a buffer of the Handle).
// After Close (also one made while Next waits) it returns ErrClosed.
func (h *Handle) Next() (capture.Packet, error) {
	if h.ring != nil {
		return h.ring.next(h)
	}
	if h.any != nil {
		return h.any.next(h)
	}
	for {
		if h.closed.Load() {
			return capture.Packet{}, ErrClosed
		}
		data, ci, err := h.eh.ZeroCopyReadPacketData()
		if err != nil {
			if h.closed.Load() {
				return capture.Packet{}, ErrClosed
			}
			return capture.Packet{}, fmt.Errorf("capturing on %s: %w", h.name, err)
		}
		if h.early > 0 {
			h.early--
			continue
		}
		ci.Timestamp = ci.Timestamp.UTC()
		ci.AncillaryData = nil
		return capture.Packet{Data: data, Info: ci, LinkType: h.lt}, nil
	}
}

// Stats returns the kernel's counters since Open (the kernel resets them
// on every read, afpacket keeps 32-bit sums; Handle sums them in 64 bits).
// After Close it returns the last counters read, which Close reads.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return h.stats, nil
	}
	return h.readStats()
}

func (h *Handle) readStats() (Stats, error) {
	if h.ring != nil {
		return h.ring.readStats(h)
	}
	if h.any != nil {
		return h.any.readStats(h)
	}
	s, err := h.eh.Stats()
	if err != nil {
		return h.stats, fmt.Errorf("reading capture statistics of %s: %w", h.name, err)
	}
	h.stats.Received += uint64(s.Packets)
	h.stats.Dropped += uint64(s.Drops)
	return h.stats, nil
}

// Close stops the capture and wakes a Next waiting for a packet. It is
// safe to call more than once and from any goroutine.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return nil
	}
	h.readStats()
	h.closed.Store(true)
	if h.ring != nil {
		return h.ring.close()
	}
	if h.any != nil {
		return h.any.close()
	}
	return h.eh.Close()
}

// DropPrivileges switches the process to the user name (its group and
// supplementary groups, then its uid), for --user once the capture socket
// is open. The open socket keeps working; no new one can be opened.
func DropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("dropping privileges: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("dropping privileges: user %s has uid %q gid %q", name, u.Uid, u.Gid)
	}
	gids := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				gids = append(gids, g)
			}
		}
	}
	// Go applies these to every thread of the process (since Go 1.16).
	if err := syscall.Setgroups(gids); err != nil {
		return fmt.Errorf("dropping privileges to %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("dropping privileges to %s: setgid(%d): %w", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("dropping privileges to %s: setuid(%d): %w", name, uid, err)
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return fmt.Errorf("dropping privileges to %s: the process could become root again", name)
	}
	return nil
}
