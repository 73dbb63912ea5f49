package decode_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// fragment cuts every IPv4 frame of pkts (Ethernet) whose IP payload is
// over 64 bytes into IPv4 fragments of at most 48 payload bytes (RFC 791:
// offsets in 8-byte units, More Fragments on all but the last), in an
// order the shape names: "in order", "reversed" (the last fragment
// first), or "duplicate last" (the final fragment sent twice).
func fragment(t *testing.T, pkts []capture.Packet, shape string) (out []capture.Packet, cut int) {
	t.Helper()
	for _, p := range pkts {
		d := p.Data
		if p.LinkType != layers.LinkTypeEthernet || len(d) < 34 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
			out = append(out, p)
			continue
		}
		ip := d[14:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || total > len(ip) || total-ihl <= 64 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			out = append(out, p)
			continue
		}
		body := ip[ihl:total]
		var frags []capture.Packet
		for off := 0; off < len(body); off += 48 {
			end := min(off+48, len(body))
			f := slices.Concat(d[:14], ip[:ihl], body[off:end])
			fip := f[14:]
			binary.BigEndian.PutUint16(fip[2:], uint16(ihl+end-off))
			fo := uint16(off / 8)
			if end < len(body) {
				fo |= 0x2000
			}
			binary.BigEndian.PutUint16(fip[6:], fo)
			q := p
			q.Data, q.Block = f, nil
			q.Info.CaptureLength, q.Info.Length = len(f), len(f)
			frags = append(frags, q)
		}
		switch shape {
		case "reversed":
			slices.Reverse(frags)
		case "duplicate last":
			frags = append(frags, frags[len(frags)-1])
		}
		out = append(out, frags...)
		cut++
	}
	return out, cut
}

// TestParallelFragments: a capture whose segments travel in IPv4
// fragments gives, with 2 and 3 workers, the Handler calls of one
// Analyzer (issue 19: fragments went to the first worker and the rest
// of the connection by its endpoints, so a password or a card number sent
// in fragments, or a fragmented ClientHello's SNI, were lost with two or
// more workers), and the secrets and SNIs that tshark reads in the
// unfragmented captures are found.
func TestParallelFragments(t *testing.T) {
	dir := testutil.Pcaps(t)
	cases := []struct {
		pcap string
		want string // in the calls of the fragmented capture
	}{
		{"http-form-login.pcap", "secret"},
		{"http-card-number.pcap", "secret"},
		{"http-basic-auth.pcap", "secret"},
		{"tls13-go.pcap", "handshake"},
		{"tls12-chacha20-openssl.pcap", "handshake"},
	}
	compared := 0
	for _, tc := range cases {
		pkts := readPackets(t, filepath.Join(dir, tc.pcap))
		for _, shape := range []string{"in order", "reversed", "duplicate last"} {
			frags, cut := fragment(t, pkts, shape)
			if cut == 0 {
				t.Fatalf("%s: nothing to fragment", tc.pcap)
			}
			var snis []string
			one := packetCalls(slicePackets(frags), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, func(c *facts.Connection, _ facts.Stats) {
				if c != nil && c.SNI() != "" {
					snis = append(snis, c.SNI())
				}
			}, 0)
			if !slices.ContainsFunc(one, func(c string) bool { return strings.HasPrefix(c, tc.want) }) {
				t.Errorf("%s, %s: one Analyzer reports no %s: %q", tc.pcap, shape, tc.want, one)
			}
			if tc.want == "handshake" && len(snis) == 0 {
				t.Errorf("%s, %s: no SNI", tc.pcap, shape)
			}
			for _, n := range []int{2, 3} {
				got := packetCalls(slicePackets(frags), func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }, nil, 0)
				if !slices.Equal(got, one) {
					t.Errorf("%s, %s, %d workers: Handler calls\n%q\none Analyzer's\n%q", tc.pcap, shape, n, got, one)
				}
				compared++
			}
		}
	}
	if compared < 30 {
		t.Errorf("only %d comparisons", compared)
	}
	_ = fmt.Sprint
}

// TestParallelFragmentsCapped: first fragments of datagrams that never
// complete are held only up to the caps; past them the oldest go to the
// first worker, counted as ip_fragments_unrouted, and the good connection
// sent among them is still reported.
func TestParallelFragmentsCapped(t *testing.T) {
	pkts := readPackets(t, filepath.Join(testutil.Pcaps(t), "http-form-login.pcap"))
	frags, _ := fragment(t, pkts, "in order")
	var flood []capture.Packet
	for _, p := range frags {
		if p.Data[14+6]&0x20 != 0 { // a first or middle fragment: never completed
			for id := range 5000 {
				q := p
				q.Data = slices.Clone(p.Data)
				binary.BigEndian.PutUint16(q.Data[14+4:], uint16(id)) // identification
				q.Data[14+12] = byte(id >> 8)                         // another source per 256
				flood = append(flood, q)
			}
			break
		}
	}
	in := slices.Concat(flood, frags)
	var st facts.Stats
	calls := packetCalls(slicePackets(in), func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, 2) }, func(c *facts.Connection, s facts.Stats) {
		if c == nil {
			st = s
		}
	}, 0)
	if st.Anomalies[decode.AnomalyFragmentsUnrouted] == 0 {
		t.Errorf("no %s anomaly after %d unfinished datagrams: %v", decode.AnomalyFragmentsUnrouted, len(flood), st.Anomalies)
	}
	if !slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "secret") }) {
		t.Errorf("the login among the flood was not reported: %q", calls)
	}
}
