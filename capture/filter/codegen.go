package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Code generation: each node becomes a test that jumps to a true or a
// false label; labels are resolved to classic BPF skips at the end, with
// unconditional jumps inserted where a conditional one cannot reach
// (classic BPF conditional jumps skip at most 255 instructions).

type label int

type insn struct {
	ins    bpf.Instruction
	jt, jf label // for JumpIf/JumpIfX both; for Jump only jt; else -1
}

type gen struct {
	link   linkInfo
	code   []insn
	labels []int // label -> instruction index
	err    error
}

// test emits code that ends at t when it holds and at f when not.
type test func(g *gen, t, f label)

var (
	always test = func(g *gen, t, f label) { g.ja(t) }
	never  test = func(g *gen, t, f label) { g.ja(f) }
)

const (
	bpfB = 1
	bpfH = 2
	bpfW = 4
)

// maxInsns is the kernel's BPF_MAXINSNS.
const maxInsns = 4096

func (g *gen) newLabel() label {
	g.labels = append(g.labels, -1)
	return label(len(g.labels) - 1)
}

func (g *gen) place(l label) { g.labels[l] = len(g.code) }

func (g *gen) emit(i bpf.Instruction) { g.code = append(g.code, insn{i, -1, -1}) }

func (g *gen) ja(t label) { g.code = append(g.code, insn{bpf.Jump{}, t, -1}) }

func (g *gen) jump(c bpf.JumpTest, v uint32, t, f label) {
	g.code = append(g.code, insn{bpf.JumpIf{Cond: c, Val: v}, t, f})
}

func (g *gen) fail(format string, a ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("filter: "+format, a...)
	}
}

func all(ts ...test) test {
	return func(g *gen, t, f label) {
		for _, x := range ts[:len(ts)-1] {
			next := g.newLabel()
			x(g, next, f)
			g.place(next)
		}
		ts[len(ts)-1](g, t, f)
	}
}

func anyOf(ts ...test) test {
	return func(g *gen, t, f label) {
		for _, x := range ts[:len(ts)-1] {
			next := g.newLabel()
			x(g, t, next)
			g.place(next)
		}
		ts[len(ts)-1](g, t, f)
	}
}

// ldJeq loads size bytes at off and tests for any of vals.
func (g *gen) ldJeq(size int, off uint32, vals ...uint32) test {
	return func(g *gen, t, f label) {
		g.emit(bpf.LoadAbsolute{Off: off, Size: size})
		for _, v := range vals[:len(vals)-1] {
			next := g.newLabel()
			g.jump(bpf.JumpEqual, v, t, next)
			g.place(next)
		}
		g.jump(bpf.JumpEqual, vals[len(vals)-1], t, f)
	}
}

// ldMaskJeq tests (size bytes at off) & mask == val.
func (g *gen) ldMaskJeq(size int, off, mask, val uint32) test {
	if mask == 0 {
		return always
	}
	return func(g *gen, t, f label) {
		g.emit(bpf.LoadAbsolute{Off: off, Size: size})
		if mask != 0xffffffff>>(32-8*size) {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		g.jump(bpf.JumpEqual, val, t, f)
	}
}

// netOff is the network header's offset after vlans 802.1Q tags.
func (g *gen) netOff(vlans int) uint32 { return g.link.netOff + 4*uint32(vlans) }

// ipProto: IPv4 whose protocol field is n.
func (g *gen) ipProto(n uint8, vlans int) test {
	return all(g.linkIs(etherTypeIPv4, vlans), g.ldJeq(bpfB, g.netOff(vlans)+9, uint32(n)))
}

// ip6Proto: IPv6 whose next header is n, directly or after a fragment
// header (libpcap looks that one header further, no more).
func (g *gen) ip6Proto(n uint8, vlans int) test {
	off := g.netOff(vlans)
	return all(g.linkIs(etherTypeIPv6, vlans), func(g *gen, t, f label) {
		g.emit(bpf.LoadAbsolute{Off: off + 6, Size: 1})
		frag := g.newLabel()
		g.jump(bpf.JumpEqual, uint32(n), t, frag)
		g.place(frag)
		more := g.newLabel()
		g.jump(bpf.JumpEqual, 44, more, f)
		g.place(more)
		g.ldJeq(bpfB, off+40, uint32(n))(g, t, f)
	})
}

// firstFragment: IPv4 fragment offset is zero.
func (g *gen) firstFragment(vlans int) test {
	off := g.netOff(vlans) + 6
	return func(g *gen, t, f label) {
		g.emit(bpf.LoadAbsolute{Off: off, Size: 2})
		g.jump(bpf.JumpBitsSet, 0x1fff, f, t)
	}
}

func byDir(d dir, src, dst test) test {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirBoth:
		return all(src, dst)
	}
	return anyOf(src, dst)
}

func (g *gen) node(n node) test {
	switch n := n.(type) {
	case andNode:
		return all(g.node(n.l), g.node(n.r))
	case orNode:
		return anyOf(g.node(n.l), g.node(n.r))
	case notNode:
		x := g.node(n.x)
		return func(g *gen, t, f label) { x(g, f, t) }
	case protoNode:
		return g.proto(n.proto, n.vlans)
	case ipProtoNode:
		switch n.family {
		case "ip":
			return g.ipProto(n.n, n.vlans)
		case "ip6":
			return g.ip6Proto(n.n, n.vlans)
		}
		return anyOf(g.ipProto(n.n, n.vlans), g.ip6Proto(n.n, n.vlans))
	case addrNode:
		return g.addr(n)
	case portNode:
		return g.port(n)
	case etherNode:
		if g.link.kind != linkEthernet {
			g.fail("Ethernet addresses are not available on link type %s", g.link.name)
			return never
		}
		mac := func(off uint32) test {
			return all(g.ldJeq(bpfW, off+2, uint32(n.mac[2])<<24|uint32(n.mac[3])<<16|uint32(n.mac[4])<<8|uint32(n.mac[5])),
				g.ldJeq(bpfH, off, uint32(n.mac[0])<<8|uint32(n.mac[1])))
		}
		return byDir(n.dir, mac(6), mac(0))
	case vlanNode:
		if g.link.kind != linkEthernet {
			g.fail("vlan is not supported on link type %s", g.link.name)
			return never
		}
		off := 12 + 4*uint32(n.vlans)
		tag := g.ldJeq(bpfH, off, 0x8100, 0x88a8, 0x9100)
		if n.id < 0 {
			return tag
		}
		return all(tag, g.ldMaskJeq(bpfH, off+2, 0x0fff, uint32(n.id)))
	case lenNode:
		return func(g *gen, t, f label) {
			g.emit(bpf.LoadExtension{Num: bpf.ExtLen})
			if n.greater {
				g.jump(bpf.JumpGreaterOrEqual, n.n, t, f)
			} else {
				g.jump(bpf.JumpGreaterThan, n.n, f, t)
			}
		}
	case relNode:
		return g.relation(n)
	}
	panic(fmt.Sprintf("filter: unknown node %T", n))
}

func (g *gen) proto(p string, vlans int) test {
	switch p {
	case "ip":
		return g.linkIs(etherTypeIPv4, vlans)
	case "ip6":
		return g.linkIs(etherTypeIPv6, vlans)
	case "arp":
		return g.linkIs(etherTypeARP, vlans)
	case "rarp":
		return g.linkIs(etherTypeRARP, vlans)
	case "icmp":
		return g.ipProto(1, vlans)
	case "icmp6":
		return g.ip6Proto(58, vlans)
	}
	n := protoNumbers[p]
	return anyOf(g.ipProto(n, vlans), g.ip6Proto(n, vlans))
}

// addr tests IPv4 host/net on IPv4 and ARP/RARP sender/target (as
// libpcap does), IPv6 on the IPv6 header.
func (g *gen) addr(n addrNode) test {
	net := g.netOff(n.vlans)
	if n.v6 {
		words := func(off uint32) test {
			var ts []test
			for i := 0; i < 16; i += 4 {
				m := be32(n.mask[i:])
				if m != 0 {
					ts = append(ts, g.ldMaskJeq(bpfW, off+uint32(i), m, be32(n.addr[i:])))
				}
			}
			if len(ts) == 0 {
				return always
			}
			return all(ts...)
		}
		return all(g.linkIs(etherTypeIPv6, n.vlans), byDir(n.dir, words(net+8), words(net+24)))
	}
	a, m := be32(n.addr[:]), be32(n.mask[:])
	word := func(off uint32) test { return g.ldMaskJeq(bpfW, off, m, a) }
	ip := all(g.linkIs(etherTypeIPv4, n.vlans), byDir(n.dir, word(net+12), word(net+16)))
	arp := func(etype uint16) test {
		return all(g.linkIs(etype, n.vlans), byDir(n.dir, word(net+14), word(net+24)))
	}
	switch n.proto {
	case "ip":
		return ip
	case "arp":
		return arp(etherTypeARP)
	case "rarp":
		return arp(etherTypeRARP)
	}
	return anyOf(ip, arp(etherTypeARP), arp(etherTypeRARP))
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// port: TCP, UDP and SCTP (or the one named) over IPv6 without extension
// headers, and over IPv4 in the first fragment, as libpcap does.
func (g *gen) port(n portNode) test {
	protos := []uint32{132, 6, 17}
	if n.proto != "" {
		protos = []uint32{uint32(protoNumbers[n.proto])}
	}
	net := g.netOff(n.vlans)
	check := func(indirect bool, off uint32) test {
		return func(g *gen, t, f label) {
			if indirect {
				g.emit(bpf.LoadIndirect{Off: off, Size: 2})
			} else {
				g.emit(bpf.LoadAbsolute{Off: off, Size: 2})
			}
			if !n.rng {
				g.jump(bpf.JumpEqual, uint32(n.lo), t, f)
				return
			}
			ge := g.newLabel()
			g.jump(bpf.JumpGreaterOrEqual, uint32(n.lo), ge, f)
			g.place(ge)
			g.jump(bpf.JumpGreaterThan, uint32(n.hi), f, t)
		}
	}
	v6 := all(g.linkIs(etherTypeIPv6, n.vlans), g.ldJeq(bpfB, net+6, protos...),
		byDir(n.dir, check(false, net+40), check(false, net+42)))
	v4 := all(g.linkIs(etherTypeIPv4, n.vlans), g.ldJeq(bpfB, net+9, protos...), g.firstFragment(n.vlans),
		func(g *gen, t, f label) {
			g.emit(bpf.LoadMemShift{Off: net})
			byDir(n.dir, check(true, net), check(true, net+2))(g, t, f)
		})
	return anyOf(v6, v4)
}

// relation: the protocol checks of every load, then the comparison.
func (g *gen) relation(n relNode) test {
	var checks []test
	var walk func(e arith)
	walk = func(e arith) {
		switch e := e.(type) {
		case loadExpr:
			if c := g.loadCheck(e); c != nil {
				checks = append(checks, c)
			}
			walk(e.off)
		case binExpr:
			walk(e.l)
			walk(e.r)
		}
	}
	walk(n.l)
	walk(n.r)
	cmp := func(g *gen, t, f label) {
		var c bpf.JumpTest
		switch n.op {
		case "=", "!=":
			c = bpf.JumpEqual
		case ">", "<=":
			c = bpf.JumpGreaterThan
		default: // >=, <
			c = bpf.JumpGreaterOrEqual
		}
		if n.op == "!=" || n.op == "<=" || n.op == "<" {
			t, f = f, t
		}
		if r, ok := n.r.(constExpr); ok {
			g.arith(n.l, 0)
			g.jump(c, r.v, t, f)
			return
		}
		g.arith(n.r, 0)
		g.emit(bpf.StoreScratch{Src: bpf.RegA, N: 0})
		g.arith(n.l, 1)
		g.emit(bpf.LoadScratch{Dst: bpf.RegX, N: 0})
		g.code = append(g.code, insn{bpf.JumpIfX{Cond: c}, t, f})
	}
	return all(append(checks, cmp)...)
}

// transport reports whether loads of proto are relative to the
// transport header after a variable-length IPv4 header.
func transport(proto string) bool {
	switch proto {
	case "tcp", "udp", "sctp", "icmp":
		return true
	}
	return false
}

// loadCheck: libpcap evaluates proto[...] only on packets of that
// protocol; tcp/udp/sctp/icmp[...] only on IPv4 first fragments.
func (g *gen) loadCheck(e loadExpr) test {
	switch e.proto {
	case "ether":
		return nil // the link-layer header, whatever the link type
	case "ip":
		return g.linkIs(etherTypeIPv4, e.vlans)
	case "ip6":
		return g.linkIs(etherTypeIPv6, e.vlans)
	case "arp":
		return g.linkIs(etherTypeARP, e.vlans)
	case "rarp":
		return g.linkIs(etherTypeRARP, e.vlans)
	case "icmp6":
		return g.ip6ProtoDirect(58, e.vlans)
	}
	return all(g.ipProto(protoNumbers[e.proto], e.vlans), g.firstFragment(e.vlans))
}

// ip6ProtoDirect: IPv6 whose next header (no extension header) is n.
func (g *gen) ip6ProtoDirect(n uint8, vlans int) test {
	return all(g.linkIs(etherTypeIPv6, vlans), g.ldJeq(bpfB, g.netOff(vlans)+6, uint32(n)))
}

// loadBase is where proto[0] is, for non-transport protocols.
func (g *gen) loadBase(e loadExpr) uint32 {
	switch e.proto {
	case "ether":
		return 0
	case "icmp6":
		return g.netOff(e.vlans) + 40
	}
	return g.netOff(e.vlans)
}

var aluOps = map[string]bpf.ALUOp{"+": bpf.ALUOpAdd, "-": bpf.ALUOpSub, "*": bpf.ALUOpMul,
	"/": bpf.ALUOpDiv, "%": bpf.ALUOpMod, "&": bpf.ALUOpAnd, "|": bpf.ALUOpOr,
	"^": bpf.ALUOpXor, "<<": bpf.ALUOpShiftLeft, ">>": bpf.ALUOpShiftRight}

// arith computes e into A, using scratch memory from depth d up.
func (g *gen) arith(e arith, d uint32) {
	if d >= 16 {
		g.fail("expression is too complex (more than 16 nested operations)")
		return
	}
	switch e := e.(type) {
	case constExpr:
		g.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: e.v})
	case lenExpr:
		g.emit(bpf.LoadExtension{Num: bpf.ExtLen})
	case binExpr:
		g.arith(e.l, d)
		if r, ok := e.r.(constExpr); ok {
			g.emit(bpf.ALUOpConstant{Op: aluOps[e.op], Val: r.v})
			return
		}
		g.emit(bpf.StoreScratch{Src: bpf.RegA, N: int(d)})
		g.arith(e.r, d+1)
		g.emit(bpf.TAX{})
		g.emit(bpf.LoadScratch{Dst: bpf.RegA, N: int(d)})
		g.emit(bpf.ALUOpX{Op: aluOps[e.op]})
	case loadExpr:
		net := g.netOff(e.vlans)
		if c, ok := e.off.(constExpr); ok {
			if transport(e.proto) {
				if uint64(c.v)+uint64(net) >= maxPacketOffset {
					g.fail("offset %d is out of range", int32(c.v))
				}
				g.emit(bpf.LoadMemShift{Off: net})
				g.emit(bpf.LoadIndirect{Off: net + c.v, Size: e.size})
				return
			}
			base := g.loadBase(e)
			if uint64(c.v)+uint64(base) >= maxPacketOffset {
				g.fail("offset %d is out of range", int32(c.v))
			}
			g.emit(bpf.LoadAbsolute{Off: base + c.v, Size: e.size})
			return
		}
		g.arith(e.off, d)
		if transport(e.proto) {
			g.emit(bpf.StoreScratch{Src: bpf.RegA, N: int(d)})
			g.emit(bpf.LoadMemShift{Off: net})
			g.emit(bpf.LoadScratch{Dst: bpf.RegA, N: int(d)})
			g.emit(bpf.ALUOpX{Op: bpf.ALUOpAdd})
			g.emit(bpf.TAX{})
			g.emit(bpf.LoadIndirect{Off: net, Size: e.size})
			return
		}
		g.emit(bpf.TAX{})
		g.emit(bpf.LoadIndirect{Off: g.loadBase(e), Size: e.size})
	}
}

// compile generates the program for root (nil: accept everything).
func compile(root node, link linkInfo, snaplen uint32) ([]bpf.RawInstruction, error) {
	g := &gen{link: link}
	accept, reject := g.newLabel(), g.newLabel()
	if root != nil {
		g.node(root)(g, accept, reject)
	}
	if g.err != nil {
		return nil, g.err
	}
	g.place(accept)
	g.emit(bpf.RetConstant{Val: snaplen})
	g.place(reject)
	g.emit(bpf.RetConstant{Val: 0})
	g.dropRedundantLoads()
	if err := g.resolve(); err != nil {
		return nil, err
	}
	prog := make([]bpf.Instruction, len(g.code))
	for i, in := range g.code {
		prog[i] = in.ins
	}
	return bpf.Assemble(prog)
}

// dropRedundantLoads removes a load into A when A already holds that
// packet word on every path to it (the primitives each load the
// ethertype, for one). All jumps go forward, so one pass finds what A
// holds at each instruction.
func (g *gen) dropRedundantLoads() {
	n := len(g.code)
	type state struct {
		reached bool
		a       bpf.Instruction // the load A holds, nil when unknown
	}
	in := make([]state, n+1)
	merge := func(i int, a bpf.Instruction) {
		switch {
		case !in[i].reached:
			in[i] = state{true, a}
		case in[i].a != a:
			in[i].a = nil
		}
	}
	drop := make([]bool, n)
	for i, c := range g.code {
		a := in[i].a
		switch ins := c.ins.(type) {
		case bpf.LoadAbsolute, bpf.LoadExtension:
			drop[i] = a == c.ins
			a = ins
		case bpf.LoadConstant:
			if ins.Dst == bpf.RegA {
				a = nil
			}
		case bpf.LoadScratch:
			if ins.Dst == bpf.RegA {
				a = nil
			}
		case bpf.LoadMemShift, bpf.StoreScratch, bpf.TAX:
		case bpf.JumpIf, bpf.JumpIfX:
			merge(g.labels[c.jt], a)
			merge(g.labels[c.jf], a)
			continue
		case bpf.Jump:
			merge(g.labels[c.jt], a)
			continue
		case bpf.RetConstant:
			continue
		default: // ALU, indirect loads, TXA
			a = nil
		}
		merge(i+1, a)
	}
	newIndex := make([]int, n+1)
	kept := g.code[:0]
	for i, c := range g.code {
		newIndex[i] = len(kept)
		if !drop[i] {
			kept = append(kept, c)
		}
	}
	newIndex[n] = len(kept)
	for l, pos := range g.labels {
		if pos >= 0 {
			g.labels[l] = newIndex[pos]
		}
	}
	g.code = kept
}

// resolve turns labels into skips, inserting "ja" where a conditional
// jump would skip more than 255 instructions.
func (g *gen) resolve() error {
	for {
		if len(g.code) > maxInsns {
			return fmt.Errorf("filter: program needs more than %d instructions", maxInsns)
		}
		fixed := false
		for i := 0; i < len(g.code) && !fixed; i++ {
			in := &g.code[i]
			if in.jt < 0 {
				continue
			}
			if _, ok := in.ins.(bpf.Jump); ok {
				in.ins = bpf.Jump{Skip: uint32(g.labels[in.jt] - i - 1)}
				continue
			}
			skip := func(l label) int { return g.labels[l] - i - 1 }
			if skip(in.jt) > 255 {
				g.code[i].jt = g.insertJump(i, in.jt)
				fixed = true
			} else if skip(in.jf) > 255 {
				g.code[i].jf = g.insertJump(i, in.jf)
				fixed = true
			}
		}
		if fixed {
			continue
		}
		for i := range g.code {
			in := &g.code[i]
			if in.jf < 0 {
				continue
			}
			st, sf := uint8(g.labels[in.jt]-i-1), uint8(g.labels[in.jf]-i-1)
			switch j := in.ins.(type) {
			case bpf.JumpIf:
				j.SkipTrue, j.SkipFalse = st, sf
				in.ins = j
			case bpf.JumpIfX:
				j.SkipTrue, j.SkipFalse = st, sf
				in.ins = j
			}
		}
		return nil
	}
}

// insertJump puts "ja target" right after instruction i and returns
// its label.
func (g *gen) insertJump(i int, target label) label {
	for k, pos := range g.labels {
		if pos > i {
			g.labels[k] = pos + 1
		}
	}
	nl := g.newLabel()
	g.labels[nl] = i + 1
	g.code = append(g.code, insn{})
	copy(g.code[i+2:], g.code[i+1:])
	g.code[i+1] = insn{bpf.Jump{}, target, -1}
	return nl
}

// maxPacketOffset: classic BPF loads at offsets from 0xfffff000 up read
// the kernel's ancillary data (SKF_AD_OFF), not the packet; a negative
// offset such as ip[-20] would land there.
const maxPacketOffset = 0xfffff000
