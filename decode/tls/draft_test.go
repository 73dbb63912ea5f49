package tls

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// draftHellos builds a ClientHello offering only version v and the
// ServerHello of draft-ietf-tls-tls13-18 that answers it (4.1.3 of the
// draft: no legacy_session_id_echo or legacy_compression_method; key_share
// is extension 40 before draft 23).
func draftHellos(v uint16) (ch, sh []byte) {
	u16 := func(b []byte, x uint16) []byte { return binary.BigEndian.AppendUint16(b, x) }
	random := make([]byte, 32)
	for i := range random {
		random[i] = byte(i)
	}
	var c []byte
	c = u16(c, VersionTLS12)
	c = append(c, random...)
	c = append(c, 0)                                     // session id
	c = u16(u16(u16(u16(c, 6), 0x1301), 0x1302), 0x1303) // suites
	c = append(c, 1, 0)                                  // compression
	var ext []byte
	ext = u16(u16(ext, extSupportedVersions), 3)
	ext = append(ext, 2)
	ext = u16(ext, v)
	ext = u16(u16(ext, extSupportedGroups), 4)
	ext = u16(u16(ext, 2), 0x001d)
	ext = u16(u16(ext, extKeyShareDraft), 38)
	ext = u16(u16(u16(ext, 36), 0x001d), 32)
	ext = append(ext, random...)
	c = append(u16(c, uint16(len(ext))), ext...)

	var s []byte
	s = u16(s, v)
	s = append(s, random...)
	s = u16(s, 0x1302)
	var sext []byte
	sext = u16(u16(sext, extKeyShareDraft), 36)
	sext = u16(u16(sext, 0x001d), 32)
	sext = append(sext, random...)
	s = append(u16(s, uint16(len(sext))), sext...)
	return handshake(TypeClientHello, c), handshake(TypeServerHello, s)
}

// writeTCP writes payloads as one TCP conversation (no handshake) to a
// pcap: client to server first, then server to client.
func writeTCP(t *testing.T, path string, payloads [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	cli, srv := net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)
	seq := [2]uint32{1000, 5000}
	for i, p := range payloads {
		d := i % 2
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: seq[d], Ack: seq[1-d], ACK: true, PSH: true, Window: 65535}
		if d == 1 {
			ip.SrcIP, ip.DstIP = srv, cli
			tcp.SrcPort, tcp.DstPort = 443, 40000
		}
		seq[d] += uint32(len(p))
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(p)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1500000000, int64(i)*1e6), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDraftServerHello: a ServerHello of TLS 1.3 drafts 18 to 21 has no
// session id or compression fields; its version, suite, key share group
// and JA3S string read as tshark's dissection of the same bytes reads
// them, and the session is TLS 1.3.
func TestDraftServerHello(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	compared := 0
	for _, v := range []uint16{0x7f12, 0x7f15} {
		ch, sh := draftHellos(v)
		path := filepath.Join(t.TempDir(), "draft.pcap")
		writeTCP(t, path, [][]byte{record(ContentHandshake, VersionTLS10, ch), record(ContentHandshake, VersionTLS12, sh)})
		out, err := exec.Command(tshark, "-r", path, "-Y", "tls.handshake.type==2", "-T", "fields", "-E", "separator=|",
			"-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions_key_share_group", "-e", "tls.handshake.ja3s_full").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		want := strings.Split(strings.TrimSpace(string(out)), "|")
		if len(want) != 4 || want[1] == "" {
			t.Fatalf("tshark did not dissect the draft %#04x ServerHello: %q", v, out)
		}
		c := NewConn(Limits{}, nil)
		t0 := time.Unix(1500000000, 0)
		c.Feed(ClientToServer, record(ContentHandshake, VersionTLS10, ch), t0)
		c.Feed(ServerToClient, record(ContentHandshake, VersionTLS12, sh), t0)
		s := c.Session()
		if s.ServerHello == nil {
			t.Fatalf("draft %#04x: no ServerHello", v)
		}
		got := []string{hex16(s.Version), hex16(s.CipherSuite), ""}
		if g := s.ServerHello.KeyShareGroup; g != 0 {
			got[2] = strconv.Itoa(int(g))
		}
		if got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("draft %#04x: version, suite, group %v; tshark %v", v, got, want[:3])
		}
		var exts []string
		for _, e := range s.ServerHello.Extensions {
			exts = append(exts, strconv.Itoa(int(e)))
		}
		ja3s := fmt.Sprintf("%d,%d,%s", s.ServerHello.LegacyVersion, s.ServerHello.CipherSuite, strings.Join(exts, "-"))
		if ja3s != want[3] {
			t.Errorf("draft %#04x: JA3S string %q, tshark %q", v, ja3s, want[3])
		}
		if !Version13(s.Version) || !strings.Contains(VersionName(s.Version), "draft") {
			t.Errorf("draft %#04x: version %s not taken for a TLS 1.3 draft", v, VersionName(s.Version))
		}
		compared++
	}
	if compared < 2 {
		t.Errorf("only %d drafts compared", compared)
	}
}
