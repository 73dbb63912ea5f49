package filter

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
	"golang.org/x/net/bpf"
)

// tcpdumpProgram is tcpdump's own compiled program for expr on a capture
// of link type lt (tcpdump -ddd), nil when tcpdump refuses expr.
func tcpdumpProgram(t *testing.T, tcpdump, file, expr string) []bpf.RawInstruction {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(tcpdump, "-r", file, "-ddd", expr)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "rejects all packets") {
			return []bpf.RawInstruction{{Op: 0x06, K: 0}}
		}
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		t.Fatalf("tcpdump -ddd %q: unexpected output %q", expr, out)
	}
	var prog []bpf.RawInstruction
	for _, l := range lines[1:] {
		var v [4]uint64
		for i, f := range strings.Fields(l) {
			v[i], err = strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatalf("tcpdump -ddd %q: %q", expr, l)
			}
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog
}

// mutate derives hostile packets from a real one: truncated, with bytes
// of the headers changed, with fields set to values the filters test.
func mutate(r *rand.Rand, p []byte) []byte {
	q := append([]byte(nil), p...)
	switch r.IntN(4) {
	case 0:
		return q[:r.IntN(len(q)+1)]
	case 1:
		for n := r.IntN(4) + 1; n > 0 && len(q) > 0; n-- {
			q[r.IntN(min(len(q), 80))] = byte(r.Uint32())
		}
	case 2:
		interesting := []byte{0, 1, 2, 4, 6, 0x11, 0x2c, 0x3a, 0x40, 0x45, 0x60, 0x81, 0x86, 0x88, 0x91, 0xdd, 0xff, 0x08, 0x06}
		for n := r.IntN(3) + 1; n > 0 && len(q) > 0; n-- {
			q[r.IntN(min(len(q), 64))] = interesting[r.IntN(len(interesting))]
		}
	default:
		if len(q) > 1 {
			i := r.IntN(len(q) - 1)
			q[i], q[i+1] = q[i+1], q[i]
		}
	}
	return q
}

// TestVerdictsMatchTcpdumpPrograms runs tcpdump's compiled program and
// ours on thousands of mutated packets of every link type: the verdicts
// must agree, including on packets too short for some loads (where a
// classic BPF program stops and rejects).
func TestVerdictsMatchTcpdumpPrograms(t *testing.T) {
	tcpdump := testutil.Tool(t, "tcpdump")
	dir := t.TempDir()
	files := writeSynthetic(t, dir)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			lt, pkts := readCapture(t, file)
			r := rand.New(rand.NewPCG(1, uint64(lt)))
			var inputs [][]byte
			for _, p := range pkts {
				inputs = append(inputs, p.data)
				for i := 0; i < 40; i++ {
					inputs = append(inputs, mutate(r, p.data))
				}
			}
			compared, aborted, differ := 0, 0, 0
			defer func() {
				t.Logf("%d verdicts compared, %d skipped (a load past the end), of which %d differ", compared, aborted, differ)
			}()
			for _, expr := range oracleExprs {
				theirs := tcpdumpProgram(t, tcpdump, file, expr)
				f, err := Parse(expr)
				if err != nil {
					t.Fatal(err)
				}
				ours, err := f.Compile(lt, 65535)
				if theirs == nil || err != nil {
					if (theirs == nil) != (err != nil) {
						t.Errorf("%v %q: tcpdump compiles it: %v, we do: %v", lt, expr, theirs != nil, err)
					}
					continue
				}
				for _, in := range inputs {
					wire := uint32(len(in)) + 7 // a snapped capture: len is not the captured length
					a, okA := run(theirs, in, wire)
					b, okB := run(ours, in, wire)
					if !okA || !okB {
						// A load past the end stopped one program. libpcap's
						// optimizer reorders loads, so on a packet cut inside
						// the headers the filter reads, the verdicts may
						// differ (documented on the package).
						aborted++
						if (a != 0) != (b != 0) {
							differ++
						}
						continue
					}
					compared++
					if (a != 0) != (b != 0) {
						t.Errorf("%v %q: tcpdump's program says %v, ours %v, on % x", lt, expr, a != 0, b != 0, in)
						break
					}
				}
			}
		})
	}
}
