package quic

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitialKeysRFCVectors: the Initial keys of RFC 9001, A.1 (version 1)
// and RFC 9369, A.1 (version 2), from the DCID 0x8394c8f03e515708.
func TestInitialKeysRFCVectors(t *testing.T) {
	dcid := unhex(t, "8394c8f03e515708")
	for _, tc := range []struct {
		name    string
		version uint32
		want    [2][3]string // key, iv, hp per direction
	}{
		{"RFC 9001 A.1", Version1, [2][3]string{
			{"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
			{"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		}},
		{"RFC 9369 A.1", Version2, [2][3]string{
			{"8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
			{"82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
		}},
	} {
		m, err := initialMaterial(tc.version, dcid)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for dir := range m {
			got := [3]string{hex.EncodeToString(m[dir].key), hex.EncodeToString(m[dir].iv), hex.EncodeToString(m[dir].hp)}
			if got != tc.want[dir] {
				t.Errorf("%s %s: key/iv/hp %v, want %v", tc.name, tls.Direction(dir), got, tc.want[dir])
			}
		}
	}
}

// TestServerInitialRFC9001: the protected server Initial of RFC 9001, A.3
// opens with the keys of A.1 and carries an ACK and a CRYPTO frame with a
// ServerHello choosing TLS_AES_128_GCM_SHA256.
func TestServerInitialRFC9001(t *testing.T) {
	pkt := unhex(t, `cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
		5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
		dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
		022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
		2158407dd074ee`)
	hdr, rest, err := ParseLong(pkt)
	if err != nil || len(rest) != 0 || hdr.Type != TypeInitial || hex.EncodeToString(hdr.SCID) != "f067a5502a4262b5" {
		t.Fatalf("header %+v rest %d err %v", hdr, len(rest), err)
	}
	var info facts.QUICInfo
	c := NewConn(&info, tls.Limits{}, func(kind string, dir tls.Direction, detail string) { t.Errorf("%s %s: %s", kind, dir, detail) })
	c.keyDCID = unhex(t, "8394c8f03e515708") // the client's DCID (A.2)
	c.Datagram(tls.ServerToClient, time.Unix(0, 0), pkt)
	if info.Decrypted[tls.ServerToClient] != 1 {
		t.Fatalf("server Initial not opened: %+v", info)
	}
	s := c.Session()
	if s.ServerHello == nil || s.CipherSuite != 0x1301 || s.Version != 0x0304 {
		t.Fatalf("ServerHello %+v, suite %#x, version %#x", s.ServerHello, s.CipherSuite, s.Version)
	}
}

// TestPacketNumberDecoding: RFC 9000, A.3's example.
func TestPacketNumberDecoding(t *testing.T) {
	if got := decodePacketNumber(0xa82f30ea, 0x9b32, 16); got != 0xa82f9b32 {
		t.Errorf("got %#x, want 0xa82f9b32", got)
	}
	if got := decodePacketNumber(-1, 0, 8); got != 0 {
		t.Errorf("first packet: got %d", got)
	}
}

// TestVersionNames: the registry's numbers.
func TestVersionNames(t *testing.T) {
	for v, want := range map[uint32]string{
		0x00000001: "1", 0x6b3343cf: "2", 0xff00001d: "draft-29", 0x51303530: "Q050",
		0x54303531: "T051", 0xfaceb002: "mvfst-2", 0x1a2a3a4a: "reserved-0x1a2a3a4a",
	} {
		if got := VersionName(v); got != want {
			t.Errorf("VersionName(%#x) = %q, want %q", v, got, want)
		}
	}
	if Decryptable(0xff00001d) || !Decryptable(Version2) {
		t.Error("Decryptable")
	}
}

// datagram is one UDP payload of a capture and its direction.
type datagram struct {
	dir  tls.Direction
	data []byte
}

// readDatagrams returns a capture's UDP datagrams, the sender of the first
// as client.
func readDatagrams(t testing.TB, path string) []datagram {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	defer f.Close()
	dec := flow.NewDecoder()
	dec.UDP = true
	var seg flow.Segment
	var out []datagram
	var client string
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if dec.Decode(p.LinkType, p.Data, p.Info, &seg) != flow.UDPDatagram {
			continue
		}
		if client == "" {
			client = seg.Src.String()
		}
		dir := tls.ClientToServer
		if seg.Src.String() != client {
			dir = tls.ServerToClient
		}
		out = append(out, datagram{dir, bytes.Clone(seg.Data)})
	}
	return out
}

// quicCorpus are single-connection QUIC captures of the corpus.
var quicCorpus = []string{
	"zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap",
	"zeek/testing/btest/Traces/quic/quicv2-echo-443.pcap",
	"zeek/testing/btest/Traces/quic/interop/quic-go_quic-go/retry.pcap",
	"suricata-verify/tests/quic-v2-ja3/input.pcap",
}

// run feeds datagrams to a new Conn and returns its facts.
func run(ds []datagram) (*facts.QUICInfo, *tls.Session, []string) {
	var info facts.QUICInfo
	var anomalies []string
	c := NewConn(&info, tls.Limits{}, func(kind string, _ tls.Direction, detail string) { anomalies = append(anomalies, kind+": "+detail) })
	for _, d := range ds {
		c.Datagram(d.dir, time.Unix(0, 0), d.data)
	}
	return &info, c.Session(), anomalies
}

// helloFacts are the facts the split/reorder invariant compares.
func helloFacts(s *tls.Session) [2]any {
	var ch, sh any
	if s.ClientHello != nil {
		ch = *s.ClientHello
	}
	if s.ServerHello != nil {
		sh = *s.ServerHello
	}
	return [2]any{ch, sh}
}

// TestRetryRederivesKeys: in quic-go's Retry capture both ClientHellos (before
// and after the Retry) and the ServerHello open; the second Initial's keys
// come from the Retry's SCID.
func TestRetryRederivesKeys(t *testing.T) {
	ds := readDatagrams(t, filepath.Join(testutil.Corpus(t), quicCorpus[2]))
	info, s, anomalies := run(ds)
	if !info.Retry || len(info.RetrySCID) == 0 || s.ServerHello == nil || s.ClientHello == nil {
		t.Fatalf("retry %v scid %x hellos %v %v", info.Retry, info.RetrySCID, s.ClientHello != nil, s.ServerHello != nil)
	}
	if info.Decrypted[tls.ClientToServer] < 2 || info.Undecrypted[tls.ClientToServer]+info.Undecrypted[tls.ServerToClient] != 0 {
		t.Errorf("decrypted %v undecrypted %v, anomalies %q", info.Decrypted, info.Undecrypted, anomalies)
	}
}

// sealInitial builds a protected Initial packet (RFC 9001, 5.3 and 5.4)
// carrying frames, padded to at least 1200 bytes for the client.
func sealInitial(t testing.TB, k *initialKeys, v uint32, dcid, scid []byte, pn uint32, frames []byte) []byte {
	t.Helper()
	bits := uint8(0) << 4 // v1 Initial
	if v == Version2 {
		bits = 1 << 4
	}
	payloadLen := 4 + len(frames) + tagLen
	hdr := []byte{0xc0 | bits | 3} // 4-byte packet number
	hdr = binary.BigEndian.AppendUint32(hdr, v)
	hdr = append(hdr, byte(len(dcid)))
	hdr = append(hdr, dcid...)
	hdr = append(hdr, byte(len(scid)))
	hdr = append(hdr, scid...)
	hdr = append(hdr, 0)                                          // token length
	hdr = append(hdr, 0x40|byte(payloadLen>>8), byte(payloadLen)) // 2-byte varint
	pnOff := len(hdr)
	hdr = binary.BigEndian.AppendUint32(hdr, pn)
	var nonce [12]byte
	nonce = k.iv
	var pnb [8]byte
	binary.BigEndian.PutUint64(pnb[:], uint64(pn))
	for i := range pnb {
		nonce[4+i] ^= pnb[i]
	}
	pkt := k.aead.Seal(hdr, nonce[:], frames, hdr)
	var mask [16]byte
	k.hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+4+sampleLen])
	pkt[0] ^= mask[0] & 0x0f
	for i := 0; i < 4; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}

func cryptoFrame(off int, data []byte) []byte {
	f := []byte{frameCrypto, 0x80, 0, 0, 0, 0x40 | byte(len(data)>>8), byte(len(data))}
	binary.BigEndian.PutUint32(f[1:5], uint32(off)|0x80000000)
	return append(f, data...)
}

// cryptoOf returns the contiguous Initial CRYPTO stream of each side of
// a capture, as the Conn rebuilt it.
func cryptoOf(t testing.TB, ds []datagram) ([2][]byte, *Conn) {
	var info facts.QUICInfo
	c := NewConn(&info, tls.Limits{}, nil)
	for _, d := range ds {
		c.Datagram(d.dir, time.Unix(0, 0), d.data)
		if c.HellosSeen() {
			break // before the handshake is over and the streams let go
		}
	}
	var out [2][]byte
	for dir := range c.streams {
		st := &c.streams[dir]
		out[dir] = bytes.Clone(st.buf[:st.contiguous()])
	}
	return out, c
}

// TestCryptoSplitReorderedDuplicated: a real ClientHello and ServerHello
// cut into CRYPTO frames carried by many Initial packets, sent out of
// order, duplicated and overlapping, give the same hellos as the capture.
func TestCryptoSplitReorderedDuplicated(t *testing.T) {
	corpus := testutil.Corpus(t)
	compared := 0
	for _, rel := range quicCorpus {
		ds := readDatagrams(t, filepath.Join(corpus, rel))
		streams, orig := cryptoOf(t, ds)
		if len(streams[0]) == 0 || len(streams[1]) == 0 {
			t.Fatalf("%s: no CRYPTO stream rebuilt", rel)
		}
		want := helloFacts(orig.Session())
		version := orig.info.Version
		dcid := orig.keyDCID
		k, err := deriveInitial(version, dcid)
		if err != nil {
			t.Fatal(err)
		}
		for seed := int64(0); seed < 20; seed++ {
			rng := rand.New(rand.NewSource(seed))
			var pkts [2][][]byte
			for dir, st := range streams {
				var frames [][]byte
				for off := 0; off < len(st); {
					n := 1 + rng.Intn(300)
					start := max(0, off-rng.Intn(20)) // overlap the previous frame
					end := min(len(st), off+n)
					frames = append(frames, cryptoFrame(start, st[start:end]))
					if rng.Intn(4) == 0 {
						frames = append(frames, cryptoFrame(start, st[start:end])) // duplicate
					}
					off = end
				}
				rng.Shuffle(len(frames), func(i, j int) { frames[i], frames[j] = frames[j], frames[i] })
				for i, fr := range frames {
					pad := make([]byte, max(0, 40-len(fr))) // room for the header protection sample
					scid := []byte{byte(dir), 1, 2, 3}
					dst := dcid
					if dir == 1 {
						dst = []byte{0, 1, 2, 3}
					}
					pkts[dir] = append(pkts[dir], sealInitial(t, k[dir], version, dst, scid, uint32(i), append(fr, pad...)))
				}
			}
			var feed []datagram
			for _, p := range pkts[0] {
				feed = append(feed, datagram{tls.ClientToServer, p})
			}
			// Coalesce some server packets into one datagram (RFC 9000, 12.2).
			for i := 0; i < len(pkts[1]); {
				n := 1 + rng.Intn(3)
				var d []byte
				for ; n > 0 && i < len(pkts[1]); n-- {
					d = append(d, pkts[1][i]...)
					i++
				}
				feed = append(feed, datagram{tls.ServerToClient, d})
			}
			info, s, anomalies := run(feed)
			if got := helloFacts(s); !reflect.DeepEqual(got, want) {
				t.Errorf("%s seed %d: hellos differ after splitting (anomalies %q)", rel, seed, anomalies)
			}
			if info.Undecrypted != [2]uint64{} {
				t.Errorf("%s seed %d: undecrypted %v: %q", rel, seed, info.Undecrypted, anomalies)
			}
			compared++
		}
	}
	if compared < 60 {
		t.Errorf("%d splits compared, want at least 60", compared)
	}
}

// TestCryptoLimit: data past MaxCryptoStream is dropped and named once.
func TestCryptoLimit(t *testing.T) {
	var st cryptoStream
	if st.add(MaxCryptoStream-1, []byte{1, 2}) != true {
		t.Error("data past the cap not reported")
	}
	if st.add(0, []byte{1}) {
		t.Error("data under the cap reported")
	}
	var many cryptoStream
	dropped := false
	for i := 0; i <= maxCryptoRanges; i++ {
		dropped = many.add(uint64(i*2), []byte{1})
	}
	if !dropped || len(many.have) != maxCryptoRanges {
		t.Errorf("range cap: dropped %v, %d ranges", dropped, len(many.have))
	}
}

// TestUnexpectedFrameNamed: a frame type an Initial may not carry stops the
// packet and is named.
func TestUnexpectedFrameNamed(t *testing.T) {
	k, _ := deriveInitial(Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	frames := append([]byte{framePing, 0x08 /* STREAM */}, make([]byte, 40)...)
	pkt := sealInitial(t, k[0], Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, nil, 0, frames)
	_, _, anomalies := run([]datagram{{tls.ClientToServer, pkt}})
	if len(anomalies) != 1 || !strings.HasPrefix(anomalies[0], AnomalyUnexpectedFrame) {
		t.Errorf("anomalies %q", anomalies)
	}
}

// TestVersionNegotiationAndDrafts: a Version Negotiation packet is
// recorded, not decrypted; a draft-29 Initial is recognised by its
// version and counted, not decrypted; a Google QUIC Q043 public header is
// recognised.
func TestVersionNegotiationAndDrafts(t *testing.T) {
	// RFC 9000, 17.2.1: first byte with the form bit, version 0, DCID,
	// SCID, then the versions.
	vn := unhex(t, "c0 00000000 04 01020304 04 05060708 00000001 6b3343cf ff00001d 1a2a3a4a")
	draft := append(unhex(t, "c0 ff00001d 08 0102030405060708 00 00 4100"), make([]byte, 256)...)
	if !Recognise(draft) || Recognise(vn) {
		t.Errorf("Recognise: draft %v, version negotiation %v", Recognise(draft), Recognise(vn))
	}
	info, s, anomalies := run([]datagram{{tls.ClientToServer, draft}, {tls.ServerToClient, vn}})
	if info.VersionName != "draft-29" || info.Initial[0] != 1 || info.Undecrypted[0] != 1 || info.Decrypted[0] != 0 || s.ClientHello != nil {
		t.Errorf("draft-29: %+v", info)
	}
	if want := []uint32{1, Version2, 0xff00001d, 0x1a2a3a4a}; !reflect.DeepEqual(info.VersionNegotiation, want) {
		t.Errorf("version negotiation %x, want %x", info.VersionNegotiation, want)
	}
	if len(anomalies) != 0 {
		t.Errorf("anomalies %q", anomalies)
	}
	// Google QUIC Q043: public flags 0x09 (version, 8-byte CID), CID, "Q043".
	gquic := append(unhex(t, "09 0102030405060708 51303433"), make([]byte, 100)...)
	if !Recognise(gquic) {
		t.Error("Q043 not recognised")
	}
	info, _, _ = run([]datagram{{tls.ClientToServer, gquic}})
	if info.VersionName != "Q043" {
		t.Errorf("gQUIC version %q", info.VersionName)
	}
}

// BenchmarkConnInitials: one QUIC connection's datagrams (Chromium's, from
// the Zeek corpus: keys derived, header protection removed, Initials
// opened, hellos parsed) per iteration.
func BenchmarkConnInitials(b *testing.B) {
	ds := readDatagrams(b, filepath.Join(testutil.Corpus(b), quicCorpus[0]))
	b.ReportAllocs()
	for b.Loop() {
		run(ds)
	}
}

// TestConnectionCloseRecorded: a server Initial with an ACK and a
// CONNECTION_CLOSE (RFC 9000, 19.19: type 0x1c, error 0x0178 = TLS alert
// 120 no_application_protocol, RFC 9001, 4.8; frame type 0x06; a reason)
// gives the close.
func TestConnectionCloseRecorded(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	k, _ := deriveInitial(Version1, dcid)
	client := sealInitial(t, k[0], Version1, dcid, nil, 0, append([]byte{framePing}, make([]byte, 40)...))
	frames := []byte{frameAck, 0, 0, 0, 0, frameConnectionClose, 0x41, 0x78, 0x06, 7}
	frames = append(append(frames, "no alpn"...), make([]byte, 30)...)
	server := sealInitial(t, k[1], Version1, nil, []byte{9, 9}, 0, frames)
	info, _, anomalies := run([]datagram{{tls.ClientToServer, client}, {tls.ServerToClient, server}})
	cl := info.Close
	if cl == nil || cl.From != uint8(tls.ServerToClient) || cl.Application || cl.Code != 0x178 || cl.Reason != "no alpn" || len(anomalies) != 0 {
		t.Errorf("close %+v, anomalies %q", cl, anomalies)
	}
}
