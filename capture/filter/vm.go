package filter

import "golang.org/x/net/bpf"

// Classic BPF opcodes (linux/filter.h, bpf(4)).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07

	sizeW, sizeH, sizeB                         = 0x00, 0x08, 0x10
	modeIMM, modeABS, modeIND, modeMEM, modeLEN = 0x00, 0x20, 0x40, 0x60, 0x80
	modeMSH                                     = 0xa0

	srcX = 0x08
	retA = 0x10
)

// run executes a classic BPF program the way the kernel and libpcap's
// bpf_filter do: a load outside the packet, or a division by zero,
// rejects it (ok false tells that case apart). wirelen is what "len"
// loads. It does not allocate.
func run(prog []bpf.RawInstruction, pkt []byte, wirelen uint32) (ret uint32, ok bool) {
	var a, x uint32
	var mem [16]uint32
	n := uint64(len(pkt))
	load := func(off uint64, size uint16) (uint32, bool) {
		switch size {
		case sizeW:
			if off+4 > n {
				return 0, false
			}
			return uint32(pkt[off])<<24 | uint32(pkt[off+1])<<16 | uint32(pkt[off+2])<<8 | uint32(pkt[off+3]), true
		case sizeH:
			if off+2 > n {
				return 0, false
			}
			return uint32(pkt[off])<<8 | uint32(pkt[off+1]), true
		case sizeB:
			if off+1 > n {
				return 0, false
			}
			return uint32(pkt[off]), true
		}
		return 0, false
	}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		k := in.K
		switch in.Op & 0x07 {
		case clsLD:
			var ok bool
			switch in.Op & 0xe0 {
			case modeIMM:
				a, ok = k, true
			case modeABS:
				a, ok = load(uint64(k), in.Op&0x18)
			case modeIND:
				a, ok = load(uint64(x)+uint64(k), in.Op&0x18)
			case modeMEM:
				if k < 16 {
					a, ok = mem[k], true
				}
			case modeLEN:
				a, ok = wirelen, true
			}
			if !ok {
				return 0, false
			}
		case clsLDX:
			switch in.Op & 0xe0 {
			case modeIMM:
				x = k
			case modeMEM:
				if k >= 16 {
					return 0, false
				}
				x = mem[k]
			case modeLEN:
				x = wirelen
			case modeMSH:
				if uint64(k) >= n {
					return 0, false
				}
				x = uint32(pkt[k]&0x0f) << 2
			default:
				return 0, false
			}
		case clsST, clsSTX:
			if k >= 16 {
				return 0, false
			}
			if in.Op&0x07 == clsST {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case clsALU:
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0, false
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				a <<= v
			case 0x70:
				a >>= v
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0, false
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return 0, false
			}
		case clsJMP:
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			var cond bool
			switch in.Op & 0xf0 {
			case 0x00: // ja
				pc += int(k)
				continue
			case 0x10:
				cond = a == v
			case 0x20:
				cond = a > v
			case 0x30:
				cond = a >= v
			case 0x40:
				cond = a&v != 0
			default:
				return 0, false
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case clsRET:
			if in.Op&0x18 == retA {
				return a, true
			}
			return k, true
		case clsMISC:
			if in.Op&0xf8 == 0x80 {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, false
}
