package decode_test

import (
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// convRow is one line of tshark's -z conv,PROTO: the endpoints ("A B"),
// the frames each way and the conversation's duration in seconds.
type convRow struct {
	key        string
	aToB, bToA uint64
	duration   float64
}

// tsharkConv reads tshark -q -z conv,proto (tcp or udp).
func tsharkConv(t *testing.T, tshark, proto, path string) []convRow {
	t.Helper()
	out, err := exec.Command(tshark, "-q", "-z", "conv,"+proto, "-r", path).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows []convRow
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// A <-> B  framesB->A bytes unit  framesA->B bytes unit  frames bytes unit  start duration
		if len(f) < 14 || f[1] != "<->" {
			continue
		}
		bToA, err1 := strconv.ParseUint(f[3], 10, 64)
		aToB, err2 := strconv.ParseUint(f[6], 10, 64)
		dur, err3 := strconv.ParseFloat(f[len(f)-1], 64)
		a, err4 := parseEndpoint(f[0])
		b, err5 := parseEndpoint(f[2])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
			t.Fatalf("tshark conv line %q", line)
		}
		rows = append(rows, convRow{a.String() + " " + b.String(), aToB, bToA, dur})
	}
	return rows
}

// tsharkConvTCP is tsharkConv's TCP conversations keyed "A B"; endpoints
// that carried several conversations (a reused port) are left out.
func tsharkConvTCP(t *testing.T, tshark, path string) map[string]convRow {
	t.Helper()
	conv, seen := map[string]convRow{}, map[string]int{}
	for _, c := range tsharkConv(t, tshark, "tcp", path) {
		seen[c.key]++
		conv[c.key] = c
	}
	for k, n := range seen {
		if n > 1 {
			delete(conv, k)
		}
	}
	return conv
}

// TestPacketsMatchTsharkConv: every TCP connection counts the frames of
// each direction tshark's conversation table counts, those after the
// first FIN included (the last ACKs, a retransmitted FIN: ecdhe.pcap's 28,
// not 24), and lasts as long (to tshark's 0.1 ms).
func TestPacketsMatchTsharkConv(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	checked := testutil.MinCompared(t, 300, "TCP conversations")
	for _, path := range captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, _ := analyze(t, path, decode.Config{})
			conv := tsharkConvTCP(t, tshark, path)
			for key, w := range conv {
				c := got[key]
				fwd := true
				if c == nil {
					ends := strings.Fields(key)
					c, fwd = got[ends[1]+" "+ends[0]], false
				}
				if c == nil {
					continue // a conversation without payload, or not reported (QUIC, a SYN scan)
				}
				want := [2]uint64{w.aToB, w.bToA}
				if !fwd {
					want[0], want[1] = want[1], want[0]
				}
				if c.Packets != want {
					t.Errorf("%s: %v packets (client, server), tshark %v", key, c.Packets, want)
				}
				if d := c.Last.Sub(c.First).Seconds(); math.Abs(d-w.duration) > 0.00011 {
					t.Errorf("%s: lasts %.6f s, tshark %.4f s", key, d, w.duration)
				}
				checked.Add(1)
			}
		})
	}
}
