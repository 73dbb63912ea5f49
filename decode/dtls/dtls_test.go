package dtls

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

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
	client := ""
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

func corpusDatagrams(t testing.TB) []datagram {
	return readDatagrams(t, filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/dtls1_2.pcap"))
}

func run(ds []datagram) (*Conn, []string) {
	var anomalies []string
	c := NewConn(tls.Limits{}, func(kind string, _ tls.Direction, detail string) { anomalies = append(anomalies, kind+": "+detail) })
	for _, d := range ds {
		c.Datagram(d.dir, time.Unix(0, 0), d.data)
	}
	return c, anomalies
}

// facts are what the split/reorder invariant compares.
func sessionFacts(s *tls.Session) []any {
	var certs [][]byte
	for _, c := range s.Certificates {
		certs = append(certs, c.Raw)
	}
	var ch, sh any
	if s.ClientHello != nil {
		ch = *s.ClientHello
	}
	if s.ServerHello != nil {
		sh = *s.ServerHello
	}
	return []any{ch, sh, certs, s.Version, s.CipherSuite, s.ServerHelloDone, s.ClientKeyExchange, s.Established}
}

// TestCorpusHandshake: Zeek's dtls1_2.pcap, read whole: two ClientHellos
// (the first in two fragments), a HelloVerifyRequest, the server's flight
// in fragments, both Finished, established, no anomaly.
func TestCorpusHandshake(t *testing.T) {
	c, anomalies := run(corpusDatagrams(t))
	s := c.Session()
	if len(anomalies) != 0 {
		t.Errorf("anomalies %q", anomalies)
	}
	if c.ClientHellos != 2 || !c.HelloVerifyRequest || !c.CookieSent || len(s.Certificates) != 1 || !s.ServerHelloDone || !s.Established {
		t.Errorf("hellos %d hvr %v cookie %v certs %d done %v established %v", c.ClientHellos, c.HelloVerifyRequest, c.CookieSent,
			len(s.Certificates), s.ServerHelloDone, s.Established)
	}
}

// messages reads the epoch-0 handshake messages a capture's datagrams
// carry, whole (fragments joined here by a simpler rule: every fragment
// of a message_seq written at its offset), and the other records as they
// are, per datagram.
type record struct {
	typ   uint8
	epoch uint16
	body  []byte
}

type hsMessage struct {
	typ  uint8
	seq  uint16
	body []byte
}

func split(t *testing.T, ds []datagram) (msgs [2][]hsMessage, after [2][]record) {
	bySeq := [2]map[uint16]*hsMessage{{}, {}}
	for _, d := range ds {
		s := cryptobyte.String(d.data)
		for !s.Empty() {
			var typ uint8
			var version, epoch uint16
			var frag cryptobyte.String
			if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16(&epoch) || !s.Skip(6) || !s.ReadUint16LengthPrefixed(&frag) {
				t.Fatal("bad record in the corpus capture")
			}
			if typ != contentHandshake || epoch != 0 {
				after[d.dir] = append(after[d.dir], record{typ, epoch, bytes.Clone(frag)})
				continue
			}
			for !frag.Empty() {
				var mt uint8
				var length, off, n uint32
				var seq uint16
				var data []byte
				frag.ReadUint8(&mt)
				frag.ReadUint24(&length)
				frag.ReadUint16(&seq)
				frag.ReadUint24(&off)
				frag.ReadUint24(&n)
				frag.ReadBytes(&data, int(n))
				m := bySeq[d.dir][seq]
				if m == nil {
					m = &hsMessage{typ: mt, seq: seq, body: make([]byte, length)}
					bySeq[d.dir][seq] = m
					msgs[d.dir] = append(msgs[d.dir], *m)
				}
				copy(m.body[off:], data)
			}
		}
	}
	for dir := range msgs {
		for i := range msgs[dir] {
			msgs[dir][i] = *bySeq[dir][msgs[dir][i].seq]
		}
	}
	return msgs, after
}

func appendRecord(b []byte, typ uint8, epoch uint16, seq uint64, body []byte) []byte {
	b = append(b, typ, 0xfe, 0xfd)
	b = binary.BigEndian.AppendUint16(b, epoch)
	b = append(b, byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func fragment(m hsMessage, off, n int) []byte {
	f := []byte{m.typ, byte(len(m.body) >> 16), byte(len(m.body) >> 8), byte(len(m.body))}
	f = binary.BigEndian.AppendUint16(f, m.seq)
	f = append(f, byte(off>>16), byte(off>>8), byte(off), byte(n>>16), byte(n>>8), byte(n))
	return append(f, m.body[off:off+n]...)
}

// TestRefragmentedSameFacts: the capture's handshake messages cut into
// other fragments (random sizes, overlapping, some sent twice), the
// fragments of each flight shuffled, give the same facts.
func TestRefragmentedSameFacts(t *testing.T) {
	ds := corpusDatagrams(t)
	orig, _ := run(ds)
	want := sessionFacts(orig.Session())
	msgs, after := split(t, ds)
	compared := 0
	for seed := int64(0); seed < 30; seed++ {
		rng := rand.New(rand.NewSource(seed))
		// Flights in order: client seq 0, server seq 0 (HelloVerifyRequest),
		// client seq 1, the server's flight, the client's, then the
		// protected records.
		var feed []datagram
		flight := func(dir tls.Direction, ms []hsMessage) {
			var frags [][]byte
			for _, m := range ms {
				for off := 0; off < len(m.body) || off == 0; {
					n := min(len(m.body)-off, 1+rng.Intn(200))
					start := max(0, off-rng.Intn(10))
					frags = append(frags, fragment(m, start, off+n-start))
					if rng.Intn(4) == 0 {
						frags = append(frags, fragment(m, start, off+n-start))
					}
					off += n
					if len(m.body) == 0 {
						break
					}
				}
			}
			rng.Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })
			var d []byte
			for i, f := range frags {
				d = appendRecord(d, contentHandshake, 0, uint64(i), f)
				if rng.Intn(2) == 0 || i == len(frags)-1 {
					feed = append(feed, datagram{dir, d})
					d = nil
				}
			}
		}
		c, s := msgs[tls.ClientToServer], msgs[tls.ServerToClient]
		flight(tls.ClientToServer, c[:1])
		flight(tls.ServerToClient, s[:1])
		flight(tls.ClientToServer, c[1:2])
		flight(tls.ServerToClient, s[1:])
		flight(tls.ClientToServer, c[2:])
		for _, dir := range []tls.Direction{tls.ClientToServer, tls.ServerToClient} {
			for _, r := range after[dir] {
				feed = append(feed, datagram{dir, appendRecord(nil, r.typ, r.epoch, 0, r.body)})
			}
		}
		got, anomalies := run(feed)
		if g := sessionFacts(got.Session()); !reflect.DeepEqual(g, want) {
			t.Errorf("seed %d: facts differ after refragmenting (anomalies %q)", seed, anomalies)
		}
		compared++
	}
	if compared < 30 {
		t.Errorf("%d compared", compared)
	}
}

// TestCaps: a message over MaxMessage and too many pending messages are
// named.
func TestCaps(t *testing.T) {
	big := hsMessage{typ: tls.TypeCertificate, seq: 0, body: make([]byte, MaxMessage+1)}
	_, anomalies := run([]datagram{{tls.ServerToClient, appendRecord(nil, contentHandshake, 0, 0, fragment(big, 0, 10))}})
	if len(anomalies) != 1 || anomalies[0][:len(AnomalyHandshakeTooLong)] != AnomalyHandshakeTooLong {
		t.Errorf("too long: %q", anomalies)
	}
	// seq 0 in part (the next expected), then one part each of more
	// messages than may wait.
	m0 := hsMessage{typ: tls.TypeServerHello, seq: 0, body: make([]byte, 100)}
	d := appendRecord(nil, contentHandshake, 0, 0, fragment(m0, 0, 10))
	for i := 1; i <= maxPending+1; i++ {
		m := hsMessage{typ: tls.TypeCertificate, seq: uint16(i), body: make([]byte, 100)}
		d = appendRecord(d, contentHandshake, 0, uint64(i), fragment(m, 0, 10))
	}
	_, anomalies = run([]datagram{{tls.ServerToClient, d}})
	found := false
	for _, a := range anomalies {
		found = found || a[:len(AnomalyReassemblyLimit)] == AnomalyReassemblyLimit
	}
	if !found {
		t.Errorf("pending cap not named: %q", anomalies)
	}
}

// FuzzDatagram: hostile datagrams never panic a Conn, and the corpus
// capture's datagrams with any of them repeated (retransmissions) give
// the same facts.
func FuzzDatagram(f *testing.F) {
	ds := corpusDatagrams(f)
	for _, d := range ds {
		f.Add(d.data, []byte{0})
	}
	f.Fuzz(func(t *testing.T, junk, dups []byte) {
		c := NewConn(tls.Limits{}, nil)
		c.Datagram(tls.ServerToClient, time.Unix(0, 0), junk)
		Recognise(junk)
		if len(ds) == 0 {
			return
		}
		orig, _ := run(ds)
		var feed []datagram
		for i, d := range ds {
			feed = append(feed, d)
			for _, k := range dups {
				if int(k)%len(ds) == i {
					feed = append(feed, d)
				}
			}
		}
		got, _ := run(feed)
		if !reflect.DeepEqual(sessionFacts(got.Session()), sessionFacts(orig.Session())) {
			t.Fatalf("facts differ with datagrams repeated %v", dups)
		}
	})
}
