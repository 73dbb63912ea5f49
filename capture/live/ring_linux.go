//go:build linux

package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/endian"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tlsscope/tlsscope/capture"
)

// Timing of the ring backend.
const (
	// ringBlockTimeout is TPACKET_V3's tp_retire_blk_tov: the kernel hands
	// a block that is not full to the reader when this timer fires. So on a
	// quiet link a packet reaches Next that much later (measured on Linux
	// 6.18: up to 64 ms once running, up to about 200 ms for the first
	// blocks, more on a loaded machine), and the packets of a block still
	// being filled at Close are never read (Stats counts them).
	ringBlockTimeout = 64 * time.Millisecond
	// ringMinBlock is the smallest block. A block holds at least one
	// packet of the snap length; larger blocks mean fewer hand-overs.
	ringMinBlock = 128 << 10
	// ringFrameSize is tp_frame_size. TPACKET_V3 packs packets of any
	// size into a block, but the kernel still wants a frame size that
	// divides the block size.
	ringFrameSize = 4096
	// ringPacketOverhead is what the kernel puts in a block besides the
	// packet bytes: the block descriptor (48 bytes), and per packet the
	// tpacket3_hdr and sockaddr_ll, aligned, in front of the data (at most
	// 96 bytes before the network header), rounded up generously.
	ringPacketOverhead = 256
)

// errRing32: gopacket's afpacket.TPacket (v1.7.7) keeps its packet count,
// updated with a 64-bit atomic add, at an offset that is not 8-aligned
// where int has 32 bits, and the first packet read panics there ("unaligned
// 64-bit atomic operation"), which no recover in the caller can be relied
// on to catch.
var errRing32 = errors.New("the ring backend needs a 64-bit platform (gopacket's afpacket counts packets with 64-bit atomics it does not align on 32-bit ones); use the socket backend")

// ring is the TPACKET_V3 backend of a Handle.
type ring struct {
	tp   *afpacket.TPacket
	snap int

	// wait is a duplicate of the socket, non-blocking, in Go's network
	// poller: Next waits there for the kernel to hand over a block, rather
	// than in a blocking poll(2), which would hold an OS thread and keep
	// the runtime's sysmon waking up every few microseconds to take its P
	// back (BenchmarkBackendsPaced measured that costing more CPU than the
	// capture itself). Closing it wakes Next at once.
	wait *os.File

	// readMu is held by Next while it uses the ring, and by Close to unmap
	// it: afpacket's Close does not wait for a read in progress.
	readMu sync.Mutex
	buf    []byte // the last packet, copied out of the ring

	// last are afpacket's running sums at the previous read: they are
	// uint32 and wrap (after 4.3 billion packets), so Stats adds their
	// differences, modulo 2^32, to Handle.stats. Guarded by Handle.mu.
	last struct{ packets, drops, freezes uint32 }
}

// ringGeometry is the block size and count of a ring of about size bytes
// holding packets of snap bytes: blocks are a power of two of pages, at
// least ringMinBlock and large enough for one packet.
func ringGeometry(size, snap int) (blockSize, numBlocks int, err error) {
	if size == 0 {
		size = DefaultRingSize
	}
	if size < MinRingSize || size > MaxRingSize {
		return 0, 0, fmt.Errorf("ring size %d bytes is outside [%d, %d] (1 MiB to 1 GiB)", size, MinRingSize, MaxRingSize)
	}
	blockSize = max(ringMinBlock, os.Getpagesize(), ringFrameSize)
	for blockSize < snap+ringPacketOverhead {
		blockSize *= 2
	}
	numBlocks = size / blockSize
	if numBlocks < 2 {
		return 0, 0, fmt.Errorf("ring size %d bytes holds fewer than two blocks of %d bytes, which a snap length of %d needs: raise the ring size or lower the snap length", size, blockSize, snap)
	}
	return blockSize, numBlocks, nil
}

// openRing opens the ring backend. The socket is created and bound with
// protocol 0, which receives nothing; once the filter is attached it is
// bound again for every protocol. So no packet reaches the ring unfiltered
// (the socket backend, bound by pcapgo, counts and skips such packets).
func openRing(ifc *net.Interface, lt layers.LinkType, opts Options) (*Handle, error) {
	iface := ifc.Name
	if strconv.IntSize == 32 {
		return nil, fmt.Errorf("cannot capture on %s: %w", iface, errRing32)
	}
	snap := snaplen(opts)
	blockSize, numBlocks, err := ringGeometry(opts.RingSize, snap)
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %s: %w", iface, err)
	}
	prog, err := program(opts.Filter, ifc.Flags&net.FlagLoopback != 0, snap)
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %s: building the filter: %w", iface, err)
	}
	prog, err = clampReturns(prog, snap)
	if err != nil {
		return nil, fmt.Errorf("cannot capture on %s: building the filter: %w", iface, err)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptProtocol(0),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(ringFrameSize),
		afpacket.OptBlockSize(blockSize),
		afpacket.OptNumBlocks(numBlocks),
		afpacket.OptBlockTimeout(ringBlockTimeout),
		// afpacket only looks whether a block is ready (poll with no
		// timeout); Next waits in Go's network poller (see ring.wait).
		afpacket.OptPollTimeout(0),
	)
	if err != nil {
		return nil, openError(iface, fmt.Sprintf("setting up a TPACKET_V3 ring of %d blocks of %d bytes", numBlocks, blockSize), err)
	}
	fail := func(what string, err error) (*Handle, error) {
		tp.Close()
		return nil, openError(iface, what, err)
	}
	if err := tp.SetBPF(prog); err != nil {
		return fail("attaching the filter", err)
	}
	if opts.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			return fail("enabling promiscuous mode", err)
		}
	}
	fd, ok := ringFD(tp)
	if !ok {
		return fail("binding the ring", errors.New("this version of gopacket's afpacket.TPacket has no fd field; use the socket backend"))
	}
	wfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fail("duplicating the ring's socket", err)
	}
	if err := unix.SetNonblock(wfd, true); err != nil {
		unix.Close(wfd)
		return fail("duplicating the ring's socket", err)
	}
	wait := os.NewFile(uintptr(wfd), "packet ring "+iface)
	sa := &unix.SockaddrLinklayer{Protocol: endian.Htons(unix.ETH_P_ALL), Ifindex: ifc.Index}
	if err := unix.Bind(fd, sa); err != nil {
		wait.Close()
		return fail("binding the ring", err)
	}
	return &Handle{
		ring: &ring{tp: tp, wait: wait, snap: snap, buf: make([]byte, 0, min(snap, 1<<16))},
		name: iface,
		lt:   lt,
	}, nil
}

// ringFD is the socket of tp. afpacket does not export it, and it is
// needed to bind the socket again once the filter is on and to wait for
// blocks in the network poller; reflect reads an unexported field without
// unsafe. A gopacket without that field makes
// Open fail (every ring test would say so) rather than capture unfiltered.
func ringFD(tp *afpacket.TPacket) (int, bool) {
	v := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !v.IsValid() || v.Kind() != reflect.Int {
		return -1, false
	}
	return int(v.Int()), true
}

// clampReturns returns prog with every constant return value above snap
// lowered to snap, so the kernel copies at most snap bytes of a packet
// into the ring (it truncates to the filter's result), and with a program
// accepting everything when prog is empty. Instructions keep their places,
// so no jump changes. "ret a" is left alone: Next cuts packets too.
func clampReturns(prog []bpf.RawInstruction, snap int) ([]bpf.RawInstruction, error) {
	if len(prog) == 0 {
		return bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(snap)}})
	}
	const retK = unix.BPF_RET | unix.BPF_K
	out := append([]bpf.RawInstruction(nil), prog...)
	for i, ins := range out {
		if ins.Op == retK && ins.K > uint32(snap) {
			out[i].K = uint32(snap)
		}
	}
	return out, nil
}

// next is Handle.Next for the ring. The bytes afpacket returns are the
// ring's own, which the kernel may overwrite once the reader moves on and
// which Close unmaps; Close may run while the caller still works on the
// packet, so the packet is copied into r.buf (one memmove, no allocation
// once buf has grown to the largest packet).
func (r *ring) next(h *Handle) (capture.Packet, error) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	if h.closed.Load() {
		return capture.Packet{}, ErrClosed
	}
	data, ci, err := r.tp.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		data, ci, err = r.waitRead()
	}
	if err != nil {
		if h.closed.Load() {
			return capture.Packet{}, ErrClosed
		}
		return capture.Packet{}, fmt.Errorf("capturing on %s: %w", h.name, err)
	}
	if len(data) > r.snap {
		data = data[:r.snap]
	}
	r.buf = append(r.buf[:0], data...)
	ci.CaptureLength = len(r.buf)
	ci.Timestamp = ci.Timestamp.UTC()
	ci.AncillaryData = nil
	return capture.Packet{Data: r.buf, Info: ci, LinkType: h.lt}, nil
}

// waitRead reads the next packet once the kernel has handed over a block,
// waiting in the network poller: the socket becomes readable when the
// kernel retires a block (full, or its timer fired). The poller keeps a
// readiness that came between a look and the wait, so none is missed.
func (r *ring) waitRead() (data []byte, ci gopacket.CaptureInfo, err error) {
	rc, err := r.wait.SyscallConn()
	if err != nil {
		return nil, ci, err
	}
	rerr := rc.Read(func(uintptr) bool {
		data, ci, err = r.tp.ZeroCopyReadPacketData()
		return !errors.Is(err, afpacket.ErrTimeout)
	})
	if rerr != nil {
		return nil, ci, rerr
	}
	return data, ci, err
}

// readStats reads the ring's counters. h.mu is held.
func (r *ring) readStats(h *Handle) (Stats, error) {
	_, s, err := r.tp.SocketStats()
	if err != nil {
		return h.stats, fmt.Errorf("reading capture statistics of %s: %w", h.name, err)
	}
	p, d, f := uint32(s.Packets()), uint32(s.Drops()), uint32(s.QueueFreezes())
	h.stats.Received += uint64(p - r.last.packets)
	h.stats.Dropped += uint64(d - r.last.drops)
	h.stats.Freezes += uint64(f - r.last.freezes)
	r.last.packets, r.last.drops, r.last.freezes = p, d, f
	return h.stats, nil
}

// close wakes a Next waiting for a block, then unmaps the ring and closes
// the socket once that Next has returned.
func (r *ring) close() error {
	r.wait.Close()
	r.readMu.Lock()
	defer r.readMu.Unlock()
	r.tp.Close()
	return nil
}
