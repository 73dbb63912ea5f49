package tls

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// seqLog is a Protection that reads application data and alerts, opens
// nothing, and notes what it was asked: the record layer's side of the
// interface that key-log decryption will implement.
type seqLog struct{ seen *[]string }

func (p seqLog) Reads(typ uint8) bool {
	return typ == ContentApplicationData || typ == ContentAlert
}

func (p seqLog) Open(r Record) (uint8, []byte, bool) {
	*p.seen = append(*p.seen, fmt.Sprintf("%d/%x/%d/%d", r.Type, r.Version, r.Seq, len(r.Body)))
	return 0, nil, false
}

func TestProtectionSequenceNumbersPerDirection(t *testing.T) {
	c := NewConn(Limits{}, nil)
	c.OnPlaintext = func(Direction, []byte, time.Time) {}
	nullHandshake(t, c)
	var seen []string
	c.protect(ClientToServer, seqLog{&seen}) // a key change: numbering starts again
	for _, r := range [][]byte{
		record(ContentApplicationData, 0x0303, make([]byte, 40)),
		record(ContentHandshake, 0x0303, make([]byte, 16)), // numbered, not read
		record(ContentAlert, 0x0303, make([]byte, 26)),
	} {
		c.Feed(ClientToServer, r, t0)
	}
	c.Feed(ServerToClient, record(ContentApplicationData, 0x0303, make([]byte, 30)), t0) // the other side: NULL, its own numbers
	if want := []string{"23/303/0/40", "21/303/2/26"}; !slices.Equal(seen, want) {
		t.Errorf("records opened %v, want %v", seen, want)
	}
	// In TLS 1.2 a ChangeCipherSpec is a key change: the machine picks
	// the protection again (here NULL, whose plaintext is delivered).
	var plain []byte
	c.OnPlaintext = func(_ Direction, b []byte, _ time.Time) { plain = append(plain, b...) }
	c.Feed(ClientToServer, record(ContentChangeCipherSpec, 0x0303, []byte{1}), t0)
	c.Feed(ClientToServer, record(ContentApplicationData, 0x0303, append([]byte("GET /"), make([]byte, 20)...)), t0)
	if len(seen) != 2 || string(plain) != "GET /" {
		t.Errorf("after ChangeCipherSpec: opened %v, plaintext %q", seen, plain)
	}
	// A record that its protection cannot open is still counted.
	if s := c.Session(); s.AppData[ClientToServer] != 40+25 {
		t.Errorf("client application data %d bytes, want 65", s.AppData[ClientToServer])
	}
}

func TestNullMACOpen(t *testing.T) {
	p := nullMAC{macLen: 20}
	body := append([]byte("hello"), bytes.Repeat([]byte{0xee}, 20)...)
	typ, plain, ok := p.Open(Record{Type: ContentApplicationData, Body: body})
	if !ok || typ != ContentApplicationData || string(plain) != "hello" {
		t.Errorf("Open = %d %q %v", typ, plain, ok)
	}
	if _, _, ok := p.Open(Record{Type: ContentApplicationData, Body: body[:19]}); ok {
		t.Error("a body shorter than its MAC opened")
	}
	if p.Reads(ContentHandshake) || p.Reads(ContentAlert) || !p.Reads(ContentApplicationData) {
		t.Error("NULL protection reads more or less than application data")
	}
}

// TestCapsAreNamedAnomalies: every cap of the Session drops with a
// named anomaly, once per connection.
func TestCapsAreNamedAnomalies(t *testing.T) {
	var log anomalyLog
	c := NewConn(Limits{}, log.add)
	c.Feed(ClientToServer, record(ContentHandshake, 0x0301, handshake(TypeClientHello, unhex(t, clientHelloFixture))), t0)
	for range MaxAlerts + 10 {
		c.Feed(ServerToClient, record(ContentAlert, 0x0303, []byte{AlertLevelWarning, 90}), t0)
	}
	s := c.Session()
	if len(s.Events) != MaxEvents || len(s.Alerts) != MaxAlerts {
		t.Errorf("%d events, %d alerts kept", len(s.Events), len(s.Alerts))
	}
	for _, kind := range []string{AnomalyEventsLimit, AnomalyAlertsLimit} {
		k := 0
		for _, a := range log {
			if strings.HasPrefix(a, kind+" ") {
				k++
			}
		}
		if k != 1 {
			t.Errorf("%s reported %d times, want once (%v)", kind, k, log)
		}
	}

	// Limits.MaxChain holds across Certificate messages of one side.
	log = nil
	h := NewHandshake(Limits{MaxChain: 2}, log.add)
	cert := certificateBody(testCertificate(t, 1), testCertificate(t, 2))
	for range 3 {
		h.Message(Message{Type: TypeCertificate, Body: cert, Dir: ServerToClient, Time: t0})
	}
	if got := len(h.Session().Certificates); got != 2 || !log.has(AnomalyChainTooLong) {
		t.Errorf("%d certificates kept over three messages with MaxChain 2; anomalies %v", got, log)
	}
}
