// Package filter reads tcpdump filter expressions (the common subset of
// pcap-filter(7)), evaluates them on captured packets and compiles them
// to classic BPF for the kernel, in pure Go.
//
// The semantics follow libpcap 1.10, checked against tcpdump in the
// tests: "port 80" is TCP, UDP or SCTP; host and net on IPv4 also match
// ARP/RARP addresses; port tests and tcp[...] look at IPv4 first
// fragments only; "vlan" moves every test to its right 4 bytes further
// into the frame. Host names are not resolved: addresses only.
//
// Where it differs from tcpdump:
//   - On a packet cut short inside the headers a filter reads, the
//     verdict may differ: a classic BPF program rejects at the first load
//     past the end, and libpcap's optimizer reorders loads.
//   - BSD loopback (Null) carries the address family in the byte order of
//     the machine that wrote the capture; both orders are accepted.
//   - Compile gives the same program as for files. On a live AF_PACKET
//     socket the kernel may have moved a VLAN tag out of the frame (VLAN
//     offload), so "vlan" there sees only tags still in the data; libpcap
//     uses BPF extensions for that case.
//
// It does not do: gateway, broadcast/multicast, protochain, ether proto,
// service names for ports, MPLS, PPPoE, 802.11, host names.
package filter

import (
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Filter is a parsed expression. It is safe for concurrent use.
type Filter struct {
	root node // nil: the empty expression, which matches everything

	mu    sync.Mutex
	cache atomic.Pointer[[]program] // per link type, copied on write
}

type program struct {
	lt   layers.LinkType
	prog []bpf.RawInstruction // nil: the filter cannot apply to lt
}

// Parse reads a tcpdump expression. An empty expression matches every
// packet.
func Parse(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return &Filter{}, nil
	}
	root, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(t.pos, "unexpected %s", describe(t))
	}
	return &Filter{root: root}, nil
}

// String is the expression in normal form: every qualifier spelled out,
// numbers in decimal, parentheses where "and" and "or" mix. Parsing it
// gives the same filter.
func (f *Filter) String() string {
	if f.root == nil {
		return ""
	}
	return f.root.String()
}

// defaultSnaplen is libpcap's default (MAXIMUM_SNAPLEN).
const defaultSnaplen = 262144

// Compile gives the classic BPF program for packets of link type lt,
// returning snaplen for a packet that matches and 0 for one that does
// not (snaplen <= 0 means 262144), for SO_ATTACH_FILTER. It fails when
// the expression cannot apply to lt (vlan or ether host on raw IP).
func (f *Filter) Compile(lt layers.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	link, err := lookupLink(lt)
	if err != nil {
		return nil, err
	}
	if snaplen <= 0 || snaplen > defaultSnaplen {
		snaplen = defaultSnaplen
	}
	return compile(f.root, link, uint32(snaplen))
}

// Match reports whether a captured packet of link type lt matches, for
// packets read from files. A filter that cannot apply to lt (see
// Compile) matches nothing. len, less and greater see len(data); use
// MatchLength for truncated captures.
func (f *Filter) Match(lt layers.LinkType, data []byte) bool {
	return f.MatchLength(lt, data, len(data))
}

// MatchLength is Match for a packet whose length on the wire was length
// (gopacket.CaptureInfo.Length), which len, less and greater test, as
// tcpdump does when reading a file.
func (f *Filter) MatchLength(lt layers.LinkType, data []byte, length int) bool {
	if f.root == nil {
		return true
	}
	prog := f.program(lt)
	if prog == nil {
		return false
	}
	r, _ := run(prog, data, uint32(length))
	return r != 0
}

// program returns the cached program for lt, compiling it once.
func (f *Filter) program(lt layers.LinkType) []bpf.RawInstruction {
	if c := f.cache.Load(); c != nil {
		for i := range *c {
			if (*c)[i].lt == lt {
				return (*c)[i].prog
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var progs []program
	if c := f.cache.Load(); c != nil {
		for _, p := range *c {
			if p.lt == lt {
				return p.prog
			}
		}
		progs = append(progs, *c...)
	}
	prog, err := f.Compile(lt, defaultSnaplen)
	if err != nil {
		prog = nil
	}
	progs = append(progs, program{lt, prog})
	f.cache.Store(&progs)
	return prog
}
