package filter

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// The expression tree. Every primitive carries vlans, the number of
// "vlan" keywords parsed before it: libpcap moves the link-layer payload
// 4 bytes further in for each, for everything to its right.

type node interface{ String() string }

type (
	andNode struct{ l, r node }
	orNode  struct{ l, r node }
	notNode struct{ x node }

	// protoNode: ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6.
	protoNode struct {
		proto string
		vlans int
	}
	// ipProtoNode: "ip proto N", "ip6 proto N", "proto N" (family "").
	ipProtoNode struct {
		family string
		n      uint8
		vlans  int
	}
	// addrNode: host and net tests on IPv4/IPv6 (and ARP/RARP) addresses.
	addrNode struct {
		proto string // "", "ip", "ip6", "arp", "rarp"
		dir   dir
		net   bool
		v6    bool
		addr  [16]byte // IPv4 in the first 4 bytes
		mask  [16]byte
		vlans int
	}
	// portNode: port and portrange on TCP, UDP and SCTP.
	portNode struct {
		proto  string // "", "tcp", "udp", "sctp"
		dir    dir
		lo, hi uint16
		rng    bool
		vlans  int
	}
	etherNode struct {
		dir dir
		mac [6]byte
	}
	vlanNode struct {
		id    int // -1: any
		vlans int
	}
	// lenNode: "less N" (greater false) and "greater N".
	lenNode struct {
		greater bool
		n       uint32
	}
	relNode struct {
		op   string // = != < > <= >=
		l, r arith
	}
)

type dir int

const (
	dirAny dir = iota // src or dst (the default)
	dirSrc
	dirDst
	dirBoth // src and dst
)

func (d dir) String() string {
	return [...]string{"", "src ", "dst ", "src and dst "}[d]
}

type arith interface{ String() string }

type (
	constExpr struct{ v uint32 }
	lenExpr   struct{}
	loadExpr  struct {
		proto string
		off   arith
		size  int
		vlans int
	}
	binExpr struct {
		op   string // + - * / % & | ^ << >>
		l, r arith
	}
)

func (n andNode) String() string { return binString(n.l, "and", n.r) }
func (n orNode) String() string  { return binString(n.l, "or", n.r) }

// binString parenthesises so that reading the result back gives the same
// tree: libpcap gives "and" and "or" equal precedence, left to right.
func binString(l node, op string, r node) string {
	ls, rs := l.String(), r.String()
	switch l.(type) {
	case andNode:
		if op != "and" {
			ls = "(" + ls + ")"
		}
	case orNode:
		if op != "or" {
			ls = "(" + ls + ")"
		}
	}
	switch r.(type) {
	case andNode, orNode:
		rs = "(" + rs + ")"
	}
	return ls + " " + op + " " + rs
}

func (n notNode) String() string {
	switch n.x.(type) {
	case andNode, orNode:
		return "not (" + n.x.String() + ")"
	}
	return "not " + n.x.String()
}

func (n protoNode) String() string { return n.proto }

func (n ipProtoNode) String() string {
	if n.family == "" {
		return fmt.Sprintf("proto %d", n.n)
	}
	return fmt.Sprintf("%s proto %d", n.family, n.n)
}

func (n addrNode) String() string {
	var b strings.Builder
	if n.proto != "" {
		b.WriteString(n.proto + " ")
	}
	b.WriteString(n.dir.String())
	if !n.net {
		b.WriteString("host " + n.addrString(n.addr))
		return b.String()
	}
	b.WriteString("net " + n.addrString(n.addr))
	if ones, ok := prefixLen(n.mask, n.v6); ok {
		fmt.Fprintf(&b, "/%d", ones)
	} else {
		b.WriteString(" mask " + n.addrString(n.mask))
	}
	return b.String()
}

func (n addrNode) addrString(a [16]byte) string {
	if n.v6 {
		return netip.AddrFrom16(a).String()
	}
	return netip.AddrFrom4([4]byte(a[:4])).String()
}

// prefixLen reports the length of a contiguous mask.
func prefixLen(m [16]byte, v6 bool) (int, bool) {
	n := 4
	if v6 {
		n = 16
	}
	ones, zero := 0, false
	for _, c := range m[:n] {
		if zero && c != 0 {
			return 0, false
		}
		l := bits.LeadingZeros8(^c)
		if c<<l != 0 {
			return 0, false
		}
		ones += l
		zero = l < 8
	}
	return ones, true
}

func (n portNode) String() string {
	var b strings.Builder
	if n.proto != "" {
		b.WriteString(n.proto + " ")
	}
	b.WriteString(n.dir.String())
	if n.rng {
		fmt.Fprintf(&b, "portrange %d-%d", n.lo, n.hi)
	} else {
		fmt.Fprintf(&b, "port %d", n.lo)
	}
	return b.String()
}

func (n etherNode) String() string {
	m := fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5])
	return "ether " + n.dir.String() + "host " + m
}

func (n vlanNode) String() string {
	if n.id < 0 {
		return "vlan"
	}
	return "vlan " + strconv.Itoa(n.id)
}

func (n lenNode) String() string {
	if n.greater {
		return fmt.Sprintf("greater %d", n.n)
	}
	return fmt.Sprintf("less %d", n.n)
}

func (n relNode) String() string { return n.l.String() + " " + n.op + " " + n.r.String() }

func (e constExpr) String() string { return strconv.FormatUint(uint64(e.v), 10) }
func (lenExpr) String() string     { return "len" }

func (e loadExpr) String() string {
	if e.size == 1 {
		return fmt.Sprintf("%s[%s]", e.proto, e.off)
	}
	return fmt.Sprintf("%s[%s:%d]", e.proto, e.off, e.size)
}

func (e binExpr) String() string {
	ls, rs := e.l.String(), e.r.String()
	if _, ok := e.l.(binExpr); ok {
		ls = "(" + ls + ")"
	}
	if _, ok := e.r.(binExpr); ok {
		rs = "(" + rs + ")"
	}
	return ls + " " + e.op + " " + rs
}
