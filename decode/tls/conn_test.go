package tls

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// record frames a body as one TLS record.
func record(typ uint8, version uint16, body []byte) []byte {
	return append([]byte{typ, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}, body...)
}

// handshake frames a handshake message.
func handshake(typ uint8, body []byte) []byte {
	return append(append([]byte{typ}, u24(len(body))...), body...)
}

type anomalyLog []string

func (l *anomalyLog) add(kind string, dir Direction, off int64, detail string) {
	*l = append(*l, fmt.Sprintf("%s %s@%d", kind, dir, off))
}

func (l anomalyLog) has(kind string) bool {
	for _, a := range l {
		if strings.HasPrefix(a, kind+" ") {
			return true
		}
	}
	return false
}

var t0 = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Verdict
	}{
		{"empty", "", NeedMore},
		{"handshake record", "16 0301 0200", Yes},
		{"application data mid-stream", "17 0303 4000", Yes},
		{"partial header", "16 03", NeedMore},
		{"HTTP", "474554202f20", No},
		{"SSH banner", "5353482d", No},
		{"bad minor version", "16 0309 0010", No},
		{"zero length", "16 0303 0000", No},
		{"length over the limit", "16 0303 ffff", No},
		{"SSLv2-compatible ClientHello", "80 2e 01 0301", Yes},
		{"SSLv2 ClientHello, short", "80 2e", NeedMore},
		{"SSLv2 header, not a hello", "80 2e 05 0002", No},
	}
	for _, tt := range tests {
		if got := Sniff(unhex(t, tt.in)); got != tt.want {
			t.Errorf("%s: Sniff = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestSeveralRecordsInOneChunkAndMessagesAcrossRecords(t *testing.T) {
	ch := handshake(TypeClientHello, unhex(t, clientHelloFixture))
	// The ClientHello split over three records, all in one chunk, with
	// an empty-bodied heartbeat-free padding record of another type in
	// front (a warning alert the client should not send, but may).
	var stream []byte
	stream = append(stream, record(ContentHandshake, 0x0301, ch[:10])...)
	stream = append(stream, record(ContentHandshake, 0x0301, ch[10:100])...)
	stream = append(stream, record(ContentHandshake, 0x0301, ch[100:])...)
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	c.Feed(ClientToServer, stream, t0)
	s := c.Session()
	if s.ClientHello == nil || s.ClientHello.ServerName != "example.com" || len(log) != 0 {
		t.Fatalf("ClientHello across records not reassembled (anomalies %v)", log)
	}
	// Two messages in one record: ServerHello and ServerHelloDone.
	sh := handshake(TypeServerHello, unhex(t, serverHello12Fixture))
	both := append(append([]byte{}, sh...), handshake(TypeServerHelloDone, nil)...)
	c.Feed(ServerToClient, record(ContentHandshake, 0x0303, both), t0.Add(time.Second))
	if s.ServerHello == nil || !s.ServerHelloDone || s.CipherSuite != 0xc02f || s.ALPN != "h2" {
		t.Errorf("two messages in one record: %+v", s)
	}
	if !s.ServerHelloAt.Equal(t0.Add(time.Second)) || !s.Start.Equal(t0) {
		t.Errorf("timestamps start %v server hello %v", s.Start, s.ServerHelloAt)
	}
}

func TestRecordTooLongResyncs(t *testing.T) {
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	bad := unhex(t, "16 0303 ffff")         // a length over 2^14+2048
	junk := bytes.Repeat([]byte{0x42}, 300) // what followed it
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(t, clientHelloFixture)))
	c.Feed(ClientToServer, append(append(bad, junk...), ch...), t0)
	if !log.has("tls_record_too_long") {
		t.Errorf("anomalies %v, want tls_record_too_long", log)
	}
	if c.Session().ClientHello == nil {
		t.Error("framer did not resync on the next record")
	}
	want := fmt.Sprintf("tls_record_too_long client@0")
	if log[0] != want {
		t.Errorf("first anomaly %q, want %q", log[0], want)
	}
}

func TestGapResyncs(t *testing.T) {
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(t, clientHelloFixture)))
	c.Feed(ClientToServer, ch[:50], t0) // half a ClientHello, then bytes lost
	c.Gap(ClientToServer)
	c.Feed(ClientToServer, bytes.Repeat([]byte{0x99}, 77), t0) // the lost record's tail
	c.Feed(ClientToServer, ch, t0)
	if c.Session().ClientHello == nil {
		t.Fatal("no ClientHello after the gap")
	}
	if len(log) != 0 {
		t.Errorf("anomalies %v: a gap is not malformed input", log)
	}
}

func TestHandshakeTooLongIsSkipped(t *testing.T) {
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	// A Certificate message of 300 000 bytes, over 256 KiB, in 16 KiB
	// records, then a ServerHelloDone that must still be read.
	msg := handshake(TypeCertificate, make([]byte, 300000))
	for len(msg) > 0 {
		n := min(len(msg), 1<<14)
		c.Feed(ServerToClient, record(ContentHandshake, 0x0303, msg[:n]), t0)
		msg = msg[n:]
	}
	c.Feed(ServerToClient, record(ContentHandshake, 0x0303, handshake(TypeServerHelloDone, nil)), t0)
	if !log.has("tls_handshake_too_long") {
		t.Errorf("anomalies %v", log)
	}
	if !c.Session().ServerHelloDone {
		t.Error("message after the over-long one was lost")
	}
	if len(c.d[ServerToClient].hs) > c.h.lim.MaxHandshake {
		t.Errorf("kept %d bytes", len(c.d[ServerToClient].hs))
	}
}

func TestBadExtensionIsAnomalyAndHelloKept(t *testing.T) {
	body := "0303" + strings.Repeat("00", 32) + "00" + "0002 1301" + "01 00" + "001f" +
		"0000 0010 000e 00 000b 6578616d706c652e636f6d" +
		"0033 0007 0004 001d 0000 ff"
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	c.Feed(ClientToServer, record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(t, body))), t0)
	if !log.has("tls_bad_extension") || c.Session().ClientHello == nil || c.Session().ClientHello.ServerName != "example.com" {
		t.Errorf("anomalies %v, hello %+v", log, c.Session().ClientHello)
	}
}

// nullHandshake plays a TLS 1.2 handshake with TLS_RSA_WITH_NULL_SHA,
// whose application data is readable.
func nullHandshake(t *testing.T, c *Conn) {
	sh := "0303" + strings.Repeat("5f", 32) + "00" + "0002" + "00"
	c.Feed(ClientToServer, record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(t, clientHelloFixture))), t0)
	c.Feed(ServerToClient, record(ContentHandshake, 0x0303, append(handshake(TypeServerHello, unhex(t, sh)), handshake(TypeServerHelloDone, nil)...)), t0)
	c.Feed(ClientToServer, record(ContentHandshake, 0x0303, handshake(TypeClientKeyExchange, make([]byte, 66))), t0)
	for _, d := range []Direction{ClientToServer, ServerToClient} {
		c.Feed(d, record(ContentChangeCipherSpec, 0x0303, []byte{1}), t0)
		c.Feed(d, record(ContentHandshake, 0x0303, make([]byte, 16+20)), t0.Add(time.Second)) // Finished + MAC
	}
}

func TestNullCipherPlaintextDelivered(t *testing.T) {
	payload := []byte("GET / HTTP/1.0\r\n\r\n")
	mac := bytes.Repeat([]byte{0xee}, 20) // HMAC-SHA1
	rec := record(ContentApplicationData, 0x0303, append(append([]byte{}, payload...), mac...))
	for cut := 1; cut < len(rec); cut++ {
		var got []byte
		c := NewConn(Limits{}, nil)
		c.OnPlaintext = func(dir Direction, data []byte, ts time.Time) {
			if dir != ClientToServer {
				t.Errorf("plaintext from %s", dir)
			}
			got = append(got, data...)
		}
		nullHandshake(t, c)
		s := c.Session()
		if !s.Established || !s.Finished[0] || !s.Finished[1] {
			t.Fatalf("NULL session not established: %+v", s)
		}
		c.Feed(ClientToServer, rec[:cut], t0)
		c.Feed(ClientToServer, rec[cut:], t0)
		if string(got) != string(payload) {
			t.Errorf("cut %d: plaintext %q, want %q (MAC stripped)", cut, got, payload)
		}
		if c.Done() {
			t.Error("Done() with readable application data and OnPlaintext set")
		}
		if s.AppData[ClientToServer] != uint64(len(payload)+len(mac)) {
			t.Errorf("AppData %v", s.AppData)
		}
	}
}

func TestAlertAfterChangeCipherSpecIsEncrypted(t *testing.T) {
	c := NewConn(Limits{}, nil)
	nullHandshake(t, c)
	c.Feed(ServerToClient, record(ContentAlert, 0x0303, make([]byte, 22)), t0)
	s := c.Session()
	a := s.Alerts[len(s.Alerts)-1]
	if !a.Encrypted || a.Level != 0 || a.Description != 0 {
		t.Errorf("alert after CCS: %+v", a)
	}
}

// streamsFor returns the TLS streams of a corpus capture.
func streamsFor(t testing.TB, rel string) []tcpStream {
	t.Helper()
	streams := followStreams(t, filepath.Join(testutil.Corpus(t), rel))
	if len(streams) == 0 {
		t.Fatalf("%s: no streams", rel)
	}
	return streams
}

// feedSplit feeds a stream, cutting every chunk at cut (0: whole chunks;
// -1: one byte at a time), and returns the session and anomalies.
func feedSplit(s *tcpStream, cut int, lim Limits) (*Session, anomalyLog) {
	var log anomalyLog
	c := NewConn(lim, log.add)
	for i, g := range s.segs {
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		switch {
		case cut < 0:
			for j := range g.data {
				c.Feed(g.from, g.data[j:j+1], ts)
			}
		case cut > 0 && cut < len(g.data):
			c.Feed(g.from, g.data[:cut], ts)
			c.Feed(g.from, g.data[cut:], ts)
		default:
			c.Feed(g.from, g.data, ts)
		}
	}
	return c.Session(), log
}

func TestSplitAtEveryByteGivesSameSession(t *testing.T) {
	for _, rel := range []string{
		"zeek/testing/btest/Traces/tls/tls1.2.pcap",
		"zeek/testing/btest/Traces/tls/hrr.pcap",
		"zeek/testing/btest/Traces/tls/client-certificate.pcap",
		"zeek/testing/btest/Traces/tls/ssl-v2.pcap",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			s := &streamsFor(t, rel)[0]
			want, wantLog := feedSplit(s, 0, Limits{})
			longest := 0
			for _, g := range s.segs {
				longest = max(longest, len(g.data))
			}
			step := 1
			if testing.Short() {
				step = 97
			}
			for cut := -1; cut < longest; cut += step {
				if cut == 0 {
					continue
				}
				got, log := feedSplit(s, cut, Limits{})
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(log, wantLog) {
					t.Fatalf("cut at %d: session differs from one chunk\n got %+v\nwant %+v", cut, got, want)
				}
			}
		})
	}
}
