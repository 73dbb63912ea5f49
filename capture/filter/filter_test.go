package filter

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"golang.org/x/net/bpf"
)

// oracleExprs cover every construct of the subset; tcpdump decides what
// each keeps.
var oracleExprs = []string{
	"",
	"ip", "ip6", "arp", "rarp", "rarp host 10.0.0.7", "dst host 10.0.0.7", "tcp", "udp", "icmp", "icmp6", "sctp",
	"host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2", "src or dst host 10.0.0.2",
	"src and dst host ::1", "host ::1", "ip6 host 2001:db8::2", "arp host 10.0.0.1", "ip host 10.0.0.1",
	"src 192.168.1.5", "host 10.0.0.1 or 10.0.0.2 or 192.168.1.5",
	"net 10.0.0.0/8", "net 192.168.0.0 mask 255.255.0.0", "src net 10.0.0.0/24", "dst net fe80::/10",
	"net 2001:db8::/32", "net 172.16", "net 0.0.0.0/0",
	"port 443", "tcp port 443", "udp port 53", "src port 443", "dst port 53", "port 80",
	"port 443 or 53", "src and dst port 5353", "sctp port 80",
	"portrange 50-90", "portrange 53", "tcp dst portrange 400-500", "udp portrange 5000-6000", "portrange 500-50",
	"ip proto 17", "ip6 proto 58", "proto \\tcp", "ip proto 132", "ip6 proto 44",
	"vlan", "vlan 100", "vlan and tcp port 443", "vlan and vlan", "vlan 10 and vlan 20 and ip",
	"not vlan and ip", "vlan or ip", "vlan and ip6 and udp", "vlan 4095 and arp",
	"ether host 00:11:22:33:44:55", "ether src 00:11:22:33:44:55", "ether dst ff:ff:ff:ff:ff:ff",
	"ether src and dst host 00:11:22:33:44:55",
	"less 100", "greater 500", "len > 1000", "len <= 80", "len - 14 >= 100",
	"tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"tcp[tcpflags] & tcp-fin != 0 or tcp[tcpflags] & tcp-rst != 0", "tcp[tcpflags] & tcp-push = 0 and tcp",
	"icmp[icmptype] = icmp-echo", "icmp[0] = 0", "icmp6[icmp6type] = icmp6-echoreply",
	"udp[0:2] = 53 or udp[2:2] = 53", "ip[0] & 0xf > 5", "ip[2:2] - ((ip[0]&0xf)<<2) > 100",
	"ip6[6] = 17", "ether[12:2] = 0x8100", "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
	"ip[9] * 2 + 1 = 13", "ip[8] ^ 64 = 0", "ip[0] % 16 = 5", "ip[6:2] & 0x1fff != 0",
	"ip[1] | 3 = 3 and ip[3] / 2 < 40", "udp[8] = 16", "tcp[0:2] > tcp[2:2]", "ip[12:4] = ip[16:4]",
	"ip6[8:4] = 0x20010db8", "ip[tcp[0] & 1] = 0x45",
	"host 10.0.0.1 and (port 443 or port 80)", "tcp and not port 443 or udp", "! (ip or ip6)",
	"not tcp and not udp", "ip and tcp port 80", "ip6 and tcp", "ip6 and tcp port 443",
	"(tcp or udp) and (src net 10.0.0.0/8 || dst net 2001:db8::/32) && !icmp",
	"ip src 10.0.0.1", "host 192.168.1.5 and not 8.8.8.8", "tcp port 0x1bb", "host 010.0.0.1",
	"tcp dst port 443 or dst port 53", "not vlan 100 and (vlan or udp)", "ether[0] & 1 != 0",
}

// oracle runs tcpdump on file with expr and returns the packets it
// keeps, or ok false with its message when it refuses the expression.
func oracle(t *testing.T, tcpdump, file, expr string) (kept []capPacket, msg string, ok bool) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.pcap")
	cmd := exec.Command(tcpdump, "-r", file, "-w", out, expr)
	b, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(b, []byte("rejects all packets")) {
			return nil, "", true
		}
		return nil, strings.TrimSpace(string(b)), false
	}
	_, ps := readCapture(t, out)
	return ps, "", true
}

// keptIndices maps the packets tcpdump wrote back to their indices in
// the input (order is kept; timestamp, lengths and bytes identify them).
func keptIndices(in, kept []capPacket) []int {
	var idx []int
	j := 0
	for i, p := range in {
		if j < len(kept) && p.ci.Timestamp.UnixMicro() == kept[j].ci.Timestamp.UnixMicro() &&
			p.ci.Length == kept[j].ci.Length && bytes.Equal(p.data, kept[j].data) {
			idx = append(idx, i)
			j++
		}
	}
	if j != len(kept) {
		idx = append(idx, -1) // tcpdump kept something we could not place
	}
	return idx
}

// checkFile compares Match, MatchLength and the compiled program run in
// x/net/bpf's VM with tcpdump, for every expression, on one capture.
func checkFile(t *testing.T, tcpdump, file string, exprs []string, stats func(expr string, kept, total int)) {
	lt, pkts := readCapture(t, file)
	for _, expr := range exprs {
		f, err := Parse(expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
			continue
		}
		kept, msg, ok := oracle(t, tcpdump, file, expr)
		prog, cerr := f.Compile(lt, 65535)
		if !ok {
			if cerr == nil {
				t.Errorf("%s: %q: tcpdump refuses it (%s) but Compile(%v) succeeds", filepath.Base(file), expr, msg, lt)
			}
			continue
		}
		if cerr != nil {
			t.Errorf("%s: %q: Compile(%v): %v (tcpdump accepts it)", filepath.Base(file), expr, lt, cerr)
			continue
		}
		want := keptIndices(pkts, kept)
		wantSet := map[int]bool{}
		for _, i := range want {
			wantSet[i] = true
		}
		ins, ok := bpf.Disassemble(prog)
		if !ok {
			t.Fatalf("%q: cannot disassemble our own program", expr)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("%q: x/net/bpf rejects the program: %v", expr, err)
		}
		var got []int
		for i, p := range pkts {
			m := f.MatchLength(lt, p.data, p.ci.Length)
			if m {
				got = append(got, i)
			}
			n, err := vm.Run(p.data)
			if err != nil {
				t.Fatalf("%q: VM: %v", expr, err)
			}
			if (n > 0) != f.Match(lt, p.data) {
				t.Errorf("%s: %q: packet %d: x/net/bpf VM says %v, Match says %v", filepath.Base(file), expr, i, n > 0, !(n > 0))
			}
			if p.ci.CaptureLength == p.ci.Length && (n > 0) != wantSet[i] {
				t.Errorf("%s: %q: packet %d: compiled BPF says %v, tcpdump %v", filepath.Base(file), expr, i, n > 0, wantSet[i])
			}
		}
		if stats != nil {
			stats(expr, len(want), len(pkts))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %q (link type %v): Match keeps %v, tcpdump keeps %v", filepath.Base(file), expr, lt, got, want)
		}
	}
}

func TestSyntheticMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.Tool(t, "tcpdump")
	// Each expression must keep some packet and drop another somewhere,
	// or the comparison proves little.
	var mu sync.Mutex
	kept, dropped := map[string]bool{}, map[string]bool{}
	t.Cleanup(func() {
		for _, e := range oracleExprs {
			if !kept[e] || !dropped[e] && e != "" {
				t.Errorf("%q: tcpdump keeps a packet somewhere: %v, drops one somewhere: %v", e, kept[e], dropped[e])
			}
		}
	})
	for _, file := range writeSynthetic(t, t.TempDir()) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			checkFile(t, tcpdump, file, oracleExprs, func(expr string, k, total int) {
				mu.Lock()
				defer mu.Unlock()
				kept[expr] = kept[expr] || k > 0
				dropped[expr] = dropped[expr] || k < total
			})
		})
	}
}

// corpusFiles have the link types of real captures: Ethernet (IPv4,
// IPv6, UDP/QUIC), BSD loopback, raw IPv4, raw IP, PPP.
var corpusFiles = []string{
	"zeek/testing/btest/Traces/tls/tls1.2.pcap",
	"suricata-verify/tests/ja4-tls-quic/input.pcap",
	"ja4/pcap/tls3.pcapng",
	"nDPI/tests/cfgs/default/pcap/tls_ech.pcapng",
	"ja4/pcap/tls-alpn-h2.pcap",
	"zeek/testing/btest/Traces/http/basic-auth-with-colon.pcap",
	"suricata-verify/tests/tls/tls-pre-1970/input.pcap",
	"zeek/testing/btest/Traces/quic/interop/quic-go_quic-go/retry.pcap",
}

func TestCorpusMatchesTcpdump(t *testing.T) {
	corpus := testutil.Corpus(t)
	tcpdump := testutil.Tool(t, "tcpdump")
	exprs := append([]string{"host 192.168.1.1", "net 192.168.0.0/16 and tcp[tcpflags] & tcp-syn != 0",
		"udp port 443", "tcp src port 443 and greater 1000", "tcp port 110 or tcp port 995"}, oracleExprs...)
	for _, rel := range corpusFiles {
		file := filepath.Join(corpus, rel)
		t.Run(filepath.Base(rel), func(t *testing.T) {
			t.Parallel()
			checkFile(t, tcpdump, file, exprs, nil)
		})
	}
}

func TestStringRoundTrips(t *testing.T) {
	for _, expr := range oracleExprs {
		f, err := Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		g, err := Parse(f.String())
		if err != nil {
			t.Fatalf("Parse(String() of %q = %q): %v", expr, f.String(), err)
		}
		if g.String() != f.String() {
			t.Errorf("%q: String %q reparses as %q", expr, f.String(), g.String())
		}
		a, errA := f.Compile(layers.LinkTypeEthernet, 100)
		b, errB := g.Compile(layers.LinkTypeEthernet, 100)
		if fmt.Sprint(a, errA) != fmt.Sprint(b, errB) {
			t.Errorf("%q: reparsed String %q compiles differently", expr, f.String())
		}
	}
}

func TestStringNormalises(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tcp port 80", "tcp port 80"},
		{"src or dst host 10.0.0.1", "host 10.0.0.1"},
		{"dst and src port 0x50", "src and dst port 80"},
		{"a or b", ""},
		{"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2"},
		{"port 80 or 443 and tcp", "(port 80 or port 443) and tcp"},
		{"tcp and (udp or icmp)", "tcp and (udp or icmp)"},
		{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
		{"net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.0 mask 255.0.255.0"},
		{"net 172.16", "net 172.16.0.0/16"},
		{"tcp[tcpflags] & tcp-syn != 0", "tcp[13] & 2 != 0"},
		{"ip[2:2] - ((ip[0]&0xf)<<2) > 100", "ip[2:2] - ((ip[0] & 15) << 2) > 100"},
		{"len == 3 * 2 + 1", "len = 7"},
		{"! (tcp || udp) && vlan 7", "not (tcp or udp) and vlan 7"},
		{"ether src 0:1:2:3:4:5", "ether src host 00:01:02:03:04:05"},
		{"proto \\udp", "proto 17"},
		{"portrange 90-80", "portrange 80-90"},
		{"net fe80::/10", "net fe80::/10"},
		{"greater 10 and less 0x10", "greater 10 and less 16"},
		{"link[0] & 1 = 1", "ether[0] & 1 = 1"},
	} {
		f, err := Parse(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) succeeds", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if f.String() != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, f.String(), c.want)
		}
	}
}

// TestErrorsNameTheProblem: expressions outside the subset, or invalid,
// fail with the offending token and its column.
func TestErrorsNameTheProblem(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"gateway 10.0.0.1", `"gateway" is not supported (at column 1); supported: host, net, port, portrange`},
		{"tcp and broadcast", `"broadcast" is not supported (at column 9)`},
		{"host example.com", `"example.com" is not an IP address: host names are not resolved (no DNS), use an address (at column 6)`},
		{"port http", `port needs a number, found "http"`},
		{"net 10.1.0.0/8", `non-network bits set in "10.1.0.0" (at column 5)`},
		{"vlan 5000", `VLAN ID 5000 is greater than 4095 (at column 6)`},
		{"tcp[12:3] = 1", `data size must be 1, 2 or 4, found "3" (at column 8)`},
		{"ip[0] / 0 = 1", `division by zero (at column 7)`},
		{"tcp port 80 and", `expression ends too early (at column 16)`},
		{"(tcp", `expected ")", found end of expression (at column 5)`},
		{"tcp )", `unexpected ")" (at column 5)`},
		{"port 70000", `port 70000 is greater than 65535`},
		{"icmp port 80", `icmp port is not valid`},
		{"tcp host 1.2.3.4", `tcp host is not valid`},
		{"ip6 host 1.2.3.4", `ip6 host needs an IPv6 address`},
		{"host 00:11:22:33:44:55", `is an Ethernet address: use ether host`},
		{"ether proto 0x800", `"proto" after "ether" is not supported`},
		{"host 1.2.3.4 $", `unexpected character "$" (at column 14)`},
		{"len", `expected a comparison (=, !=, <, >, <=, >=), found end of expression (at column 4)`},
		{"portrange 80-", `portrange needs two ports`},
		{"ip proto 300", `protocol number 300 is greater than 255`},
	} {
		_, err := Parse(c.expr)
		if err == nil {
			t.Errorf("Parse(%q) succeeds", c.expr)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "filter: ") {
			t.Errorf("Parse(%q) = %q, want it to contain %q", c.expr, err, c.want)
		}
	}
}

// TestTcpdumpRejectsWhatWeReject: every invalid expression above is also
// invalid for tcpdump (so the subset's errors are not our inventions),
// except where we are stricter on purpose (no DNS, no service names).
func TestTcpdumpRejectsWhatWeReject(t *testing.T) {
	tcpdump := testutil.Tool(t, "tcpdump")
	file := writeSynthetic(t, t.TempDir())[0]
	for _, expr := range []string{"net 10.1.0.0/8", "vlan 5000", "tcp[12:3] = 1", "ip[0] / 0 = 1",
		"tcp port 80 and", "(tcp", "tcp )", "icmp port 80", "tcp host 1.2.3.4", "ip6 host 1.2.3.4", "len", "portrange 80-"} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) succeeds", expr)
		}
		if _, msg, ok := oracle(t, tcpdump, file, expr); ok {
			t.Errorf("tcpdump accepts %q", expr)
		} else if msg == "" {
			t.Errorf("tcpdump gives no message for %q", expr)
		}
	}
}

func TestCompileErrorsOnLinkType(t *testing.T) {
	for _, c := range []struct {
		expr string
		lt   layers.LinkType
		want string
	}{
		{"vlan", layers.LinkTypeRaw, "vlan is not supported on link type raw IP"},
		{"ether host 00:11:22:33:44:55", layers.LinkTypeLinuxSLL, "Ethernet addresses are not available"},
		{"tcp", layers.LinkTypeIEEE802_11, "link type 105"},
	} {
		f, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Compile(c.lt, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q, %v) = %v, want %q", c.expr, c.lt, err, c.want)
		}
		if f.Match(c.lt, make([]byte, 100)) {
			t.Errorf("Match(%q, %v) is true for a filter that cannot apply", c.expr, c.lt)
		}
	}
}

// TestCompileReturnsSnaplen: accept returns snaplen, reject 0, as
// libpcap's programs do for SO_ATTACH_FILTER.
func TestCompileReturnsSnaplen(t *testing.T) {
	f, err := Parse("tcp")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := f.Compile(layers.LinkTypeEthernet, 1500)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := bpf.Disassemble(prog)
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	ps := netPackets(t)
	syn, _ := wrap(t, layers.LinkTypeEthernet, ps[0])
	udp, _ := wrap(t, layers.LinkTypeEthernet, ps[5])
	if n, _ := vm.Run(syn); n != 1500 {
		t.Errorf("accept returns %d, want snaplen 1500", n)
	}
	if r, _ := run(prog, syn, uint32(len(syn))); r != 1500 {
		t.Errorf("accept returns %d, want 1500", r)
	}
	if n, _ := vm.Run(udp); n != 0 {
		t.Errorf("reject returns %d, want 0", n)
	}
	if prog[len(prog)-2] != (bpf.RawInstruction{Op: 0x06, K: 1500}) {
		t.Errorf("accept instruction is %+v", prog[len(prog)-2])
	}
}

// TestLongJumps: an expression whose program is longer than a
// conditional jump can skip still compiles and matches like tcpdump's
// semantics say (any of the ports).
func TestLongJumps(t *testing.T) {
	var parts []string
	for p := 1; p <= 120; p++ {
		parts = append(parts, fmt.Sprintf("port %d", 1000+p))
	}
	expr := "(" + strings.Join(parts, " or ") + ") or port 443"
	f, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := f.Compile(layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program has only %d instructions: the test does not exercise long jumps", len(prog))
	}
	ps := netPackets(t)
	for i, p := range ps {
		b, _ := wrap(t, layers.LinkTypeEthernet, p)
		// The port 443 packets (not the one behind an IPv6 fragment
		// header) and the first fragment from port 1025.
		want := i <= 3 || i == 9 || i == 12 || i == 18 || i == 20
		if got := f.Match(layers.LinkTypeEthernet, b); got != want {
			t.Errorf("packet %d: Match = %v, want %v", i, got, want)
		}
	}
}

func TestEmptyMatchesAll(t *testing.T) {
	f, err := Parse("  ")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(layers.LinkTypeEthernet, nil) || f.String() != "" {
		t.Error("the empty expression must match everything")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f, err := Parse("vlan and tcp port 443 or host 10.0.0.1 and tcp[tcpflags] & tcp-syn != 0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := wrap(t, layers.LinkTypeEthernet, netPackets(t)[0])
	f.Match(layers.LinkTypeEthernet, b)
	if n := testing.AllocsPerRun(100, func() { f.Match(layers.LinkTypeEthernet, b) }); n != 0 {
		t.Errorf("Match allocates %v times per packet", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, expr := range []string{"tcp port 443", "host 10.0.0.1 and (port 443 or port 80)", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn"} {
		f, err := Parse(expr)
		if err != nil {
			b.Fatal(err)
		}
		ps := netPackets(b)
		var frames [][]byte
		for _, p := range ps {
			fr, _ := wrap(b, layers.LinkTypeEthernet, p)
			frames = append(frames, fr)
		}
		prog, _ := f.Compile(layers.LinkTypeEthernet, 0)
		ins, _ := bpf.Disassemble(prog)
		vm, _ := bpf.NewVM(ins)
		b.Run("Match/"+expr, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				f.Match(layers.LinkTypeEthernet, frames[i%len(frames)])
			}
		})
		b.Run("xnetVM/"+expr, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				vm.Run(frames[i%len(frames)])
			}
		})
	}
}

// TestMatchConcurrent: one Filter used from several goroutines, each
// link type compiled once, gives the same verdicts (run with -race).
func TestMatchConcurrent(t *testing.T) {
	f, err := Parse("tcp port 443 or icmp6")
	if err != nil {
		t.Fatal(err)
	}
	ps := netPackets(t)
	var wg sync.WaitGroup
	for _, lt := range syntheticLinkTypes {
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, p := range ps {
					b, ok := wrap(t, lt, p)
					if !ok {
						continue
					}
					prog, err := f.Compile(lt, 0)
					if err != nil {
						t.Error(err)
						return
					}
					want, _ := run(prog, b, uint32(len(b)))
					if f.Match(lt, b) != (want != 0) {
						t.Errorf("%v: Match differs from its own program", lt)
					}
				}
			}()
		}
	}
	wg.Wait()
}

// TestNegativeOffsetRejected: ip[-20] (found by FuzzParse) would compile to
// a load from the kernel's ancillary-data range; it is a compile error.
func TestNegativeOffsetRejected(t *testing.T) {
	for _, expr := range []string{"ip[-20] < 0", "tcp[-1] = 2", "ether[-4:2] = 1"} {
		f, err := Parse(expr)
		if err != nil {
			continue // refusing it at parse time is fine too
		}
		if _, err := f.Compile(layers.LinkTypeEthernet, 0); err == nil {
			t.Errorf("%s: compiled", expr)
		}
	}
}
