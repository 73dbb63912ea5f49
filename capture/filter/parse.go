package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Error is a parse error: what is wrong and where (Column counts bytes
// from 1), with a hint when one helps.
type Error struct {
	Column int
	Msg    string
	Hint   string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("filter: %s (at column %d)", e.Msg, e.Column)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func errAt(pos int, format string, a ...any) *Error {
	return &Error{Column: pos + 1, Msg: fmt.Sprintf(format, a...)}
}

const supportedHint = "supported: host, net, port, portrange, src, dst, ether host/src/dst, vlan, " +
	"ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6, proto, less, greater, len, " +
	"proto[off:size] comparisons, and, or, not, parentheses"

// unsupported are tcpdump keywords outside the subset: naming them gives
// a clearer error than "unknown host".
var unsupported = strings.Fields(`gateway broadcast multicast decnet iso esis es-is isis is-is clnp
	stp ipx netbeui atalk aarp lat sca moprc mopdl llc mpls pppoed pppoes geneve vxlan
	inbound outbound ifname on rnr reason rset rulenum srnr subrule action type subtype
	wlan ra ta addr1 addr2 addr3 addr4 fddi tr igmp igrp pim vrrp carp ah esp l1 l2
	iih lsp snp csnp psnp protochain slip radio lane metac bcc sc ilmic oamf4ec oamf4sc
	oam oamf4 connectmsg metaconnect vpi vci sio opc dpc sls hsio hopc hdpc hsls fisu lssu msu
	hfisu hlssu hmsu`)

// netProtos are the protocols that may qualify host and net.
var netProtos = map[string]bool{"ip": true, "ip6": true, "arp": true, "rarp": true}

// protos are the protocol keywords usable alone ("tcp") and as the
// protocol of a byte-offset load ("tcp[13]"), with "ether"/"link".
var protos = map[string]bool{"ip": true, "ip6": true, "arp": true, "rarp": true,
	"tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true}

var loadProtos = map[string]bool{"ether": true, "link": true, "ip": true, "ip6": true,
	"arp": true, "rarp": true, "tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true}

// protoNumbers are the names "proto \tcp" accepts.
var protoNumbers = map[string]uint8{"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "icmp6": 58, "sctp": 132,
	"ah": 51, "esp": 50, "pim": 103, "vrrp": 112}

// constants are tcpdump's named values (pcap-filter(7)).
var constants = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
	"icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
	"icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
	"icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
	"icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
	"icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146,
	"icmp6-mobileprefixadvert": 147, "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
	"tcpflags":                  13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`and or not src dst host net mask port portrange proto
		less greater len vlan ether link ip ip6 arp rarp tcp udp sctp icmp icmp6`) {
		keywords[k] = true
	}
	for k := range constants {
		keywords[k] = true
	}
}

// qual remembers the qualifiers of the last primitive, for tcpdump's
// abbreviation "host 10.0.0.1 or 10.0.0.2", "port 80 or 443".
type qual struct {
	proto string
	dir   dir
	typ   string
}

type parser struct {
	toks  []token
	i     int
	vlans int
	last  *qual
	depth int
}

// maxDepth bounds nesting (parentheses, "not", unary minus).
const maxDepth = 100

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(p.peek().pos, "expression is nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// is reports whether t is the (unescaped) keyword or operator s.
func is(t token, s ...string) bool {
	if t.kind != tokOp && (t.kind != tokWord || t.esc) {
		return false
	}
	for _, x := range s {
		if t.text == x {
			return true
		}
	}
	return false
}

func describe(t token) string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return strconv.Quote(t.text)
}

func (p *parser) expect(s string) error {
	t := p.next()
	if !is(t, s) {
		return errAt(t.pos, "expected %q, found %s", s, describe(t))
	}
	return nil
}

// parse: expr := term { (and|or) term }, "and" and "or" of equal
// precedence and left-associative, as in libpcap.
func (p *parser) parseExpr() (node, error) {
	l, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case is(t, "and", "&&"):
			p.next()
			r, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			l = andNode{l, r}
		case is(t, "or", "||"):
			p.next()
			r, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			l = orNode{l, r}
		default:
			return l, nil
		}
	}
}

func (p *parser) parseTerm() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	if is(t, "not", "!") {
		p.next()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	var relErr error
	if p.startsArith() {
		save := p.i
		n, err := p.parseRelation()
		if err == nil {
			return n, nil
		}
		relErr = err
		p.i = save
	}
	// Only "(" and a bare number may start either a comparison or
	// something else ("(tcp)", "port 80 or 443").
	if relErr != nil && !is(t, "(") && t.kind != tokNum {
		return nil, relErr
	}
	n, err := p.parseTermNoRel()
	if err != nil && relErr != nil && relErr.(*Error).Column > err.(*Error).Column {
		return nil, relErr
	}
	return n, err
}

func (p *parser) parseTermNoRel() (node, error) {
	if is(p.peek(), "(") {
		p.next()
		n, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return n, nil
	}
	return p.parsePrimitive()
}

func (p *parser) startsArith() bool {
	t := p.peek()
	switch {
	case t.kind == tokNum, is(t, "(", "-", "len"):
		return true
	case t.kind == tokWord && !t.esc:
		if _, ok := constants[t.text]; ok {
			return true
		}
		return loadProtos[t.text] && is(p.peekAt(1), "[")
	}
	return false
}

func (p *parser) parsePrimitive() (node, error) {
	t := p.peek()
	if t.kind == tokWord && !t.esc {
		switch w := t.text; {
		case w == "less" || w == "greater":
			p.next()
			n := p.next()
			if n.kind != tokNum {
				return nil, errAt(n.pos, "%s needs a number, found %s", w, describe(n))
			}
			return lenNode{greater: w == "greater", n: n.num}, nil
		case w == "vlan":
			p.next()
			id := -1
			if n := p.peek(); n.kind == tokNum {
				p.next()
				if n.num > 4095 {
					return nil, errAt(n.pos, "VLAN ID %d is greater than 4095", n.num)
				}
				id = int(n.num)
			}
			v := vlanNode{id: id, vlans: p.vlans}
			p.vlans++
			return v, nil
		case w == "ether" || w == "link":
			p.next()
			return p.parseEther(t)
		case w == "proto":
			p.next()
			return p.parseIPProto("", t)
		case protos[w]:
			p.next()
			n := p.peek()
			if is(n, "proto") && (w == "ip" || w == "ip6") {
				p.next()
				return p.parseIPProto(w, n)
			}
			if is(n, "src", "dst", "host", "net", "port", "portrange") {
				return p.parseQualified(w, t)
			}
			return protoNode{proto: w, vlans: p.vlans}, nil
		case is(t, "src", "dst", "host", "net", "port", "portrange"):
			return p.parseQualified("", t)
		case w == "mask":
			return nil, errAt(t.pos, "mask must follow a net address, e.g. net 10.0.0.0 mask 255.0.0.0")
		}
		for _, u := range unsupported {
			if t.text == u {
				return nil, &Error{Column: t.pos + 1, Msg: fmt.Sprintf("%q is not supported", t.text), Hint: supportedHint}
			}
		}
	}
	switch t.kind {
	case tokEOF:
		return nil, errAt(t.pos, "expression ends too early")
	case tokOp:
		return nil, errAt(t.pos, "unexpected %q", t.text)
	}
	// A bare value: an address alone is "host", and after a primitive it
	// takes that primitive's qualifiers ("port 80 or 443").
	q := qual{typ: "host"}
	if p.last != nil {
		q = *p.last
	}
	p.next()
	return p.parseValue(q, t)
}

func (p *parser) parseIPProto(family string, kw token) (node, error) {
	t := p.next()
	var n uint8
	switch {
	case t.kind == tokNum:
		if t.num > 255 {
			return nil, errAt(t.pos, "protocol number %d is greater than 255", t.num)
		}
		n = uint8(t.num)
	case t.kind == tokWord:
		v, ok := protoNumbers[t.text]
		if !ok {
			return nil, errAt(t.pos, "unknown protocol %q; use a number", t.text)
		}
		n = v
	default:
		return nil, errAt(t.pos, "%s needs a protocol number or name, found %s", kw.text, describe(t))
	}
	return ipProtoNode{family: family, n: n, vlans: p.vlans}, nil
}

func (p *parser) parseDir() dir {
	t := p.peek()
	if !is(t, "src", "dst") {
		return dirAny
	}
	p.next()
	d := dirSrc
	if t.text == "dst" {
		d = dirDst
	}
	other := "dst"
	if d == dirDst {
		other = "src"
	}
	if c := p.peek(); is(c, "and", "&&", "or", "||") && is(p.peekAt(1), other) {
		p.next()
		p.next()
		if is(c, "and", "&&") {
			return dirBoth
		}
		return dirAny
	}
	return d
}

// parseEther: ether [src|dst|src or dst|src and dst] [host] MAC.
func (p *parser) parseEther(kw token) (node, error) {
	t := p.peek()
	if !is(t, "src", "dst", "host") {
		if t.kind == tokWord {
			return nil, &Error{Column: t.pos + 1, Msg: fmt.Sprintf("%q after %q is not supported", t.text, kw.text), Hint: "supported: ether host/src/dst ADDRESS and ether[offset]"}
		}
		return nil, errAt(t.pos, "%s must be followed by host, src or dst", kw.text)
	}
	d := p.parseDir()
	if is(p.peek(), "host") {
		p.next()
	}
	m := p.next()
	mac, ok := parseMAC(m.text)
	if !ok || (m.kind != tokMAC && m.kind != tokWord) {
		return nil, errAt(m.pos, "expected an Ethernet address such as 00:11:22:33:44:55, found %s", describe(m))
	}
	return etherNode{dir: d, mac: mac}, nil
}

// parseQualified reads [dir] [host|net|port|portrange] value.
func (p *parser) parseQualified(proto string, start token) (node, error) {
	q := qual{proto: proto, dir: p.parseDir()}
	if t := p.peek(); is(t, "host", "net", "port", "portrange") {
		p.next()
		q.typ = t.text
	}
	v := p.next()
	if q.typ == "" {
		if v.kind != tokAddr4 && v.kind != tokAddr6 && v.kind != tokWord {
			return nil, errAt(v.pos, "expected host, net, port or portrange, found %s", describe(v))
		}
		q.typ = "host"
	}
	return p.parseValue(q, v)
}

func (p *parser) parseValue(q qual, v token) (node, error) {
	p.last = &q
	switch q.typ {
	case "host", "net":
		return p.parseAddr(q, v)
	case "port":
		if v.kind != tokNum {
			if v.kind == tokWord && strings.Contains(v.text, "-") {
				return nil, errAt(v.pos, "%q is a range: use portrange", v.text)
			}
			return nil, errAt(v.pos, "port needs a number, found %s (service names are not supported)", describe(v))
		}
		if v.num > 65535 {
			return nil, errAt(v.pos, "port %d is greater than 65535", v.num)
		}
		return p.portNode(q, v, uint16(v.num), uint16(v.num), false)
	default: // portrange
		lo, hi, ok := parseRange(v.text)
		if v.kind == tokNum && v.num <= 65535 {
			lo, hi, ok = uint16(v.num), uint16(v.num), true // tcpdump takes one port
		}
		if !ok {
			return nil, errAt(v.pos, "portrange needs two ports such as 1024-2047, found %s", describe(v))
		}
		return p.portNode(q, v, lo, hi, true)
	}
}

func parseRange(s string) (uint16, uint16, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	lo, ok1 := parseNum(a)
	hi, ok2 := parseNum(b)
	if !ok1 || !ok2 || lo > 65535 || hi > 65535 {
		return 0, 0, false
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return uint16(lo), uint16(hi), true
}

func (p *parser) portNode(q qual, v token, lo, hi uint16, rng bool) (node, error) {
	switch q.proto {
	case "", "tcp", "udp", "sctp":
	default:
		return nil, errAt(v.pos, "%s %s is not valid: ports are on tcp, udp or sctp", q.proto, q.typ)
	}
	return portNode{proto: q.proto, dir: q.dir, lo: lo, hi: hi, rng: rng, vlans: p.vlans}, nil
}

func (p *parser) parseAddr(q qual, v token) (node, error) {
	n := addrNode{proto: q.proto, dir: q.dir, net: q.typ == "net", vlans: p.vlans}
	if q.proto != "" && !netProtos[q.proto] {
		return nil, errAt(v.pos, "%s %s is not valid: addresses are on ip, ip6, arp or rarp", q.proto, q.typ)
	}
	switch v.kind {
	case tokAddr4, tokNum:
		a, octets, ok := parseDotted(v.text)
		if v.kind == tokNum {
			a, octets, ok = v.num<<24, 1, v.num <= 255
		}
		if !ok || !n.net && octets != 4 {
			return nil, errAt(v.pos, "%q is not an IPv4 address", v.text)
		}
		if q.proto == "ip6" {
			return nil, errAt(v.pos, "ip6 %s needs an IPv6 address, found %q", q.typ, v.text)
		}
		mask := ^uint32(0) << (32 - 8*octets)
		if n.net {
			switch t := p.peek(); {
			case is(t, "/"):
				p.next()
				l := p.next()
				if l.kind != tokNum || l.num > 32 {
					return nil, errAt(l.pos, "expected a prefix length 0-32, found %s", describe(l))
				}
				mask = 0
				if l.num > 0 {
					mask = ^uint32(0) << (32 - l.num)
				}
			case is(t, "mask"):
				p.next()
				m := p.next()
				mv, o, ok := parseDotted(m.text)
				if m.kind != tokAddr4 || !ok || o != 4 {
					return nil, errAt(m.pos, "mask needs a dotted IPv4 mask, found %s", describe(m))
				}
				mask = mv
			}
			if a&^mask != 0 {
				return nil, errAt(v.pos, "non-network bits set in %q", v.text)
			}
		} else {
			mask = ^uint32(0)
		}
		put32(n.addr[:], a)
		put32(n.mask[:], mask)
		return n, nil
	case tokAddr6:
		if q.proto != "" && q.proto != "ip6" {
			return nil, errAt(v.pos, "%s %s needs an IPv4 address, found %q", q.proto, q.typ, v.text)
		}
		n.v6 = true
		a, _ := parseAddr6(v.text)
		n.addr = a
		plen := 128
		if n.net && is(p.peek(), "/") {
			p.next()
			l := p.next()
			if l.kind != tokNum || l.num > 128 {
				return nil, errAt(l.pos, "expected a prefix length 0-128, found %s", describe(l))
			}
			plen = int(l.num)
		}
		for i := 0; i < plen; i++ {
			n.mask[i/8] |= 0x80 >> (i % 8)
		}
		for i := range n.addr {
			if n.addr[i]&^n.mask[i] != 0 {
				return nil, errAt(v.pos, "non-network bits set in %q", v.text)
			}
		}
		return n, nil
	case tokMAC:
		return nil, errAt(v.pos, "%q is an Ethernet address: use ether host", v.text)
	case tokWord:
		if v.esc || !keywords[v.text] {
			return nil, errAt(v.pos, "%q is not an IP address: host names are not resolved (no DNS), use an address", v.text)
		}
	}
	return nil, errAt(v.pos, "%s needs an address, found %s", q.typ, describe(v))
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// parseRelation: arith relop arith.
func (p *parser) parseRelation() (node, error) {
	l, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	t := p.next()
	if !is(t, "=", "==", "!=", "<", ">", "<=", ">=") {
		return nil, errAt(t.pos, "expected a comparison (=, !=, <, >, <=, >=), found %s", describe(t))
	}
	r, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	op := t.text
	if op == "==" {
		op = "="
	}
	return relNode{op: op, l: l, r: r}, nil
}

// Arithmetic precedence as libpcap's grammar: | lowest, then &, shifts,
// + -, * / %. libpcap gives '^' no precedence, so yacc always shifts it:
// "a & b ^ c" is "a & (b ^ c)" and "a ^ b & c" is "a ^ (b & c)".
var precedence = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}

func (p *parser) parseArith(minPrec int) (arith, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp {
			return l, nil
		}
		if t.text == "^" {
			p.next()
			r, err := p.parseArith(0)
			if err != nil {
				return nil, err
			}
			if l, err = fold(t, l, r); err != nil {
				return nil, err
			}
			continue
		}
		prec, ok := precedence[t.text]
		if !ok || prec < minPrec {
			return l, nil
		}
		p.next()
		r, err := p.parseArith(prec + 1)
		if err != nil {
			return nil, err
		}
		if l, err = fold(t, l, r); err != nil {
			return nil, err
		}
	}
}

// fold builds l op r, computing it now when both are constants.
func fold(t token, l, r arith) (arith, error) {
	rc, rConst := r.(constExpr)
	if (t.text == "/" || t.text == "%") && rConst && rc.v == 0 {
		return nil, errAt(t.pos, "division by zero")
	}
	lc, lConst := l.(constExpr)
	if !lConst || !rConst {
		return binExpr{op: t.text, l: l, r: r}, nil
	}
	return constExpr{alu(t.text, lc.v, rc.v)}, nil
}

// alu is the classic BPF ALU (shifts of 32 or more give 0, as in Go and
// the x/net/bpf VM).
func alu(op string, a, b uint32) uint32 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "%":
		return a % b
	case "&":
		return a & b
	case "|":
		return a | b
	case "^":
		return a ^ b
	case "<<":
		return a << b
	}
	return a >> b
}

func (p *parser) parseUnary() (arith, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	switch {
	case is(t, "-"):
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return fold(t, constExpr{0}, x)
	case is(t, "("):
		x, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return x, nil
	case t.kind == tokNum:
		return constExpr{t.num}, nil
	case is(t, "len"):
		return lenExpr{}, nil
	case t.kind == tokWord && !t.esc:
		if v, ok := constants[t.text]; ok {
			return constExpr{v}, nil
		}
		if loadProtos[t.text] && is(p.peek(), "[") {
			return p.parseLoad(t)
		}
	}
	return nil, errAt(t.pos, "expected a number, len or proto[offset], found %s", describe(t))
}

func (p *parser) parseLoad(proto token) (arith, error) {
	p.next() // [
	off, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	size := 1
	if is(p.peek(), ":") {
		p.next()
		s := p.next()
		if s.kind != tokNum || s.num != 1 && s.num != 2 && s.num != 4 {
			return nil, errAt(s.pos, "data size must be 1, 2 or 4, found %s", describe(s))
		}
		size = int(s.num)
	}
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	name := proto.text
	if name == "link" {
		name = "ether"
	}
	return loadExpr{proto: name, off: off, size: size, vlans: p.vlans}, nil
}

func parseAddr6(s string) ([16]byte, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return [16]byte{}, false
	}
	return a.As16(), true
}
