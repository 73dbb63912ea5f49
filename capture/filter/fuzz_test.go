package filter

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

var (
	fuzzFramesOnce sync.Once
	fuzzFrames     [][]byte
)

// frames: the synthetic Ethernet frames and mutations of them.
func frames(t testing.TB) [][]byte {
	fuzzFramesOnce.Do(func() {
		ps := netPackets(t)
		var fs [][]byte
		for _, p := range ps {
			b, _ := wrap(t, layers.LinkTypeEthernet, p)
			fs = append(fs, b)
		}
		fs = append(fs, vlanFrames(t, ps)...)
		r := rand.New(rand.NewPCG(7, 7))
		n := len(fs)
		for i := 0; i < n; i++ {
			for j := 0; j < 4; j++ {
				fs = append(fs, mutate(r, fs[i]))
			}
		}
		fuzzFrames = fs
	})
	return fuzzFrames
}

// FuzzParse: Parse never panics; a parsed filter prints to a string that
// parses to the same filter, compiles for Ethernet (or fails with a
// limit error), and Match agrees with x/net/bpf's VM on real and
// mutated frames.
func FuzzParse(f *testing.F) {
	for _, e := range oracleExprs {
		f.Add(e)
	}
	for _, e := range []string{"gateway 10.0.0.1", "host example.com", "tcp[12:3] = 1", "((tcp)", "ip[0] / 0 = 1",
		"ether[0] & 1 = 1 and not vlan 7", "net fe80::/10 or dst net 10.0.0.0 mask 255.0.255.0", "-len = 0 - 1",
		"port 80 or 443 and tcp", "icmp6[0:2] >= 0x8000", "ip6 proto \\tcp", "tcp[tcp[tcp[0]]:4] ^ 7 % 3 = 2"} {
		f.Add(e)
	}
	fs := frames(f)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "filter: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		s := flt.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", expr, s, err)
		}
		if again.String() != s {
			t.Fatalf("%q prints as %q, which prints as %q", expr, s, again.String())
		}
		prog, err := flt.Compile(layers.LinkTypeEthernet, 0)
		if err != nil {
			if !strings.Contains(err.Error(), "too complex") && !strings.Contains(err.Error(), "instructions") &&
				!strings.Contains(err.Error(), "too large") && !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("%q parses but does not compile for Ethernet: %v", expr, err)
			}
			return
		}
		ins, ok := bpf.Disassemble(prog)
		if !ok {
			t.Fatalf("%q: program does not disassemble", expr)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("%q: x/net/bpf refuses the program: %v", expr, err)
		}
		for _, fr := range fs {
			n, err := vm.Run(fr)
			if err != nil {
				t.Fatalf("%q: VM: %v", expr, err)
			}
			if m := flt.Match(layers.LinkTypeEthernet, fr); m != (n > 0) {
				t.Fatalf("%q on % x: Match %v, x/net/bpf VM %v", expr, fr, m, n > 0)
			}
		}
		for _, lt := range syntheticLinkTypes {
			flt.Match(lt, fs[0])
		}
	})
}
