package tls

import (
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// seedCaptures are the corpus captures whose streams seed the fuzzers.
var seedCaptures = []string{
	"zeek/testing/btest/Traces/tls/tls1.2.pcap",
	"zeek/testing/btest/Traces/tls/tls1_1.pcap",
	"zeek/testing/btest/Traces/tls/ecdhe.pcap",
	"zeek/testing/btest/Traces/tls/hrr.pcap",
	"zeek/testing/btest/Traces/tls/client-certificate.pcap",
	"zeek/testing/btest/Traces/tls/ssl-v2.pcap",
	"zeek/testing/btest/Traces/tls/tls13-ech.pcap",
	"zeek/testing/btest/Traces/tls/chrome-1250-tls-x25519-kyber.pcap",
	"suricata-verify/tests/sslv2-tls-upgrade-01/ssl-v2-s1.pcap",
	"nDPI/tests/cfgs/default/pcap/ja3_lots_of_cipher_suites.pcap",
}

// seedStreams returns the TLS streams of the seed captures, or nothing
// when the corpus or tshark is missing: fuzzing then starts from the
// fixtures alone instead of being skipped.
func seedStreams(f *testing.F) []tcpStream {
	if fl := flag.Lookup("test.fuzzworker"); fl != nil && fl.Value.String() == "true" {
		// Fuzz workers get their inputs from the coordinator; running
		// tshark in each of them only delays their start past the
		// coordinator's patience.
		return nil
	}
	dir := os.Getenv("TLSSCOPE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
		return nil
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		return nil
	}
	var out []tcpStream
	for _, rel := range seedCaptures {
		out = append(out, followStreams(f, filepath.Join(dir, rel))...)
	}
	return out
}

// handshakeMessages returns the plaintext handshake messages at the start
// of one direction: each as its type and body.
func handshakeMessages(s *tcpStream, from Direction) (types []uint8, bodies [][]byte) {
	var b []byte
	for _, g := range s.segs {
		if g.from == from {
			b = append(b, g.data...)
		}
	}
	var hs []byte
	for len(b) >= 5 && b[0] == ContentHandshake {
		n := int(binary.BigEndian.Uint16(b[3:5]))
		if len(b) < 5+n {
			break
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
	}
	for len(hs) >= 4 {
		n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		if len(hs) < 4+n {
			break
		}
		types = append(types, hs[0])
		bodies = append(bodies, hs[4:4+n])
		hs = hs[4+n:]
	}
	return types, bodies
}

func seedMessages(f *testing.F, typ uint8, from Direction) [][]byte {
	var out [][]byte
	for _, s := range seedStreams(f) {
		ts, bs := handshakeMessages(&s, from)
		for i := range ts {
			if ts[i] == typ {
				out = append(out, bs[i])
			}
		}
	}
	return out
}

// shortMinimize caps the fuzzer's minimisation at five seconds unless
// -fuzzminimizetime was set by hand. A new input is minimised before it
// counts, and minimising kilobytes of stream or DER against coverage
// takes longer than the default minute: a one-minute run would do
// nothing else.
func shortMinimize() {
	if fl := flag.Lookup("test.fuzzminimizetime"); fl != nil && fl.Value.String() == fl.DefValue {
		fl.Value.Set("5s")
	}
}

// checkParseError is the invariant every parser keeps: errors are
// *ParseError pointing inside the input.
func checkParseError(t *testing.T, err error, n int) {
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > n || pe.Msg == "" || pe.Field == "" {
		t.Fatalf("error %#v is not a ParseError inside %d bytes", err, n)
	}
}

func FuzzParseClientHello(f *testing.F) {
	f.Add(unhex(f, clientHelloFixture))
	for _, b := range seedMessages(f, TypeClientHello, ClientToServer) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := ParseClientHello(body)
		checkParseError(t, err, len(body))
		if err == nil && ch == nil {
			t.Fatal("nil ClientHello without error")
		}
		if ch != nil && (len(ch.Random) != 32 || len(ch.SessionID) > 32) {
			t.Fatalf("random %d bytes, session id %d bytes", len(ch.Random), len(ch.SessionID))
		}
		ch2, err := ParseSSLv2ClientHello(body)
		checkParseError(t, err, len(body))
		if ch2 != nil && len(ch2.SSLv2CipherKinds) != len(ch2.CipherSuites)+ch2.SSLv2OnlyKinds {
			t.Fatal("SSLv2 kinds do not add up")
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	for _, s := range []string{serverHello12Fixture, serverHello13Fixture, helloRetryFixture} {
		f.Add(unhex(f, s))
	}
	for _, b := range seedMessages(f, TypeServerHello, ServerToClient) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sh, err := ParseServerHello(body)
		checkParseError(t, err, len(body))
		if sh != nil && sh.HelloRetryRequest != (string(sh.Random) == string(helloRetryRandom[:])) {
			t.Fatal("HelloRetryRequest flag does not follow the random")
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	shortMinimize()
	f.Add(certificateBody(testCertificate(f, 1), []byte{1, 2, 3}))
	for _, b := range seedMessages(f, TypeCertificate, ServerToClient) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		chain, err := ParseCertificate(body, Limits{MaxChain: 4})
		checkParseError(t, err, len(body))
		if chain != nil && len(chain.Certificates)+chain.Errors > 4 {
			t.Fatalf("%d certificates parsed over a chain limit of 4", len(chain.Certificates)+chain.Errors)
		}
	})
}

func FuzzParseServerKeyExchange(f *testing.F) {
	f.Add(unhex(f, "03001d20"+"3333333333333333333333333333333333333333333333333333333333333333"+"0804000401020304"), uint16(0xc02f), VersionTLS12)
	f.Add(unhex(f, "0002ffff000102000201010004aabbccdd"), uint16(0x0039), VersionTLS10)
	for _, s := range seedStreams(f) {
		types, bodies := handshakeMessages(&s, ServerToClient)
		var suite, version uint16
		for i, typ := range types {
			if typ == TypeServerHello {
				if sh, err := ParseServerHello(bodies[i]); err == nil {
					suite, version = sh.CipherSuite, sh.Version()
				}
			}
			if typ == TypeServerKeyExchange {
				f.Add(bodies[i], suite, version)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, id, version uint16) {
		suite, ok := LookupCipherSuite(id)
		if !ok {
			suite = CipherSuite{ID: id, KeyExchange: "ECDHE", Auth: "RSA"}
		}
		kx, err := ParseServerKeyExchange(body, suite, version)
		checkParseError(t, err, len(body))
		if kx == nil {
			t.Fatal("nil KeyExchange")
		}
	})
}

// encodeSegments packs a stream as [direction][length u16][bytes]...
func encodeSegments(segs []segment, limit int) []byte {
	var out []byte
	for _, g := range segs {
		d := g.data
		if len(d) > 0xffff {
			d = d[:0xffff]
		}
		if len(out)+3+len(d) > limit {
			break
		}
		out = append(out, byte(g.from))
		out = binary.BigEndian.AppendUint16(out, uint16(len(d)))
		out = append(out, d...)
	}
	return out
}

func decodeSegments(b []byte) []segment {
	var segs []segment
	for len(b) >= 3 {
		from := Direction(b[0] & 1)
		n := min(int(binary.BigEndian.Uint16(b[1:3])), len(b)-3)
		segs = append(segs, segment{from, b[3 : 3+n]})
		b = b[3+n:]
	}
	return segs
}

// FuzzConnFeed checks the framer's invariant: a stream cut at other
// points gives the same Session and the same anomalies as whole chunks,
// and nothing panics.
func FuzzConnFeed(f *testing.F) {
	shortMinimize()
	for _, s := range seedStreams(f) {
		f.Add(encodeSegments(s.segs, 6<<10), uint16(1))
		f.Add(encodeSegments(s.segs, 6<<10), uint16(200))
	}
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(f, clientHelloFixture)))
	f.Add(encodeSegments([]segment{{ClientToServer, ch}}, 1<<16), uint16(7))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		s := &tcpStream{segs: decodeSegments(data)}
		// Certificates are left to FuzzParseCertificate: crypto/x509
		// would make each run slow enough that the fuzzer spends its
		// time minimising.
		lim := Limits{MaxCertificate: 1}
		want, wantLog := feedSplit(s, 0, lim)
		got, log := feedSplit(s, int(cut)%64+1, lim)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(log, wantLog) {
			t.Fatalf("cut at %d changes the session:\n got %+v %v\nwant %+v %v", int(cut)%64+1, got, log, want, wantLog)
		}
	})
}

// encodeMessages packs messages as [direction][type][length u16][body]...
func encodeMessages(msgs []Message, limit int) []byte {
	var out []byte
	for _, m := range msgs {
		b := m.Body
		if len(b) > 0xffff {
			b = b[:0xffff]
		}
		if len(out)+4+len(b) > limit {
			break
		}
		out = append(out, byte(m.Dir), m.Type)
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// anomalyKinds is the catalogue of limits.go.
var anomalyKinds = []string{AnomalyBadRecord, AnomalyRecordTooLong, AnomalyBufferLimit, AnomalyHandshakeTooLong,
	AnomalyBadHandshake, AnomalyBadExtension, AnomalyBadCertificate, AnomalyChainTooLong, AnomalyUnexpectedMessage,
	AnomalyEventsLimit, AnomalyAlertsLimit}

// FuzzHandshakeMessage feeds the machine messages directly, as a QUIC or
// DTLS carrier will: nothing panics, every cap holds, and every anomaly
// is one of the catalogue's.
func FuzzHandshakeMessage(f *testing.F) {
	shortMinimize()
	for _, s := range seedStreams(f) {
		if msgs, ok := splitMessages(&s); ok {
			f.Add(encodeMessages(msgs, 6<<10))
		}
	}
	f.Add(encodeMessages([]Message{{Type: TypeClientHello, Body: unhex(f, clientHelloFixture)}}, 1<<16))
	f.Fuzz(func(t *testing.T, data []byte) {
		var kinds []string
		h := NewHandshake(Limits{MaxCertificate: 1, MaxChain: 3}, func(kind string, _ Direction, _ int64, _ string) {
			kinds = append(kinds, kind)
		})
		for len(data) >= 4 {
			n := min(int(binary.BigEndian.Uint16(data[2:4])), len(data)-4)
			h.Message(Message{Type: data[1], Body: data[4 : 4+n], Dir: Direction(data[0] & 1), SSLv2: data[0]&2 != 0})
			data = data[4+n:]
		}
		s := h.Session()
		if len(s.Events) > MaxEvents || len(s.Alerts) > MaxAlerts || len(s.Certificates) > 3 || len(s.ClientCertificates) > 3 {
			t.Fatalf("caps broken: %d events, %d alerts, %d+%d certificates", len(s.Events), len(s.Alerts), len(s.Certificates), len(s.ClientCertificates))
		}
		for _, k := range kinds {
			if !slices.Contains(anomalyKinds, k) {
				t.Fatalf("anomaly %q not in the catalogue", k)
			}
		}
	})
}
