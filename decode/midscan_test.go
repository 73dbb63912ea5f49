package decode

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// midHello is a ClientHello record: TLS 1.0 record, TLS 1.2 hello, empty
// session id, two suites, no extensions.
var midHello = "16" + "0301" + "002f" + // record: handshake, 47 bytes
	"01" + "00002b" + // client_hello, 43 bytes
	"0303" + // client_version
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + // random
	"00" + // session_id
	"0004" + "c02f" + "00ff" + // cipher_suites
	"0100" + // compression_methods
	"0000" // extensions

func newTestStream(a *Analyzer) *stream {
	s := &stream{a: a, roleKnown: true}
	s.ent.Flow = s
	s.conn.ID = 1
	s.conn.StartSeen = true
	return s
}

// TestMidStreamScanSplitInvariant: a ClientHello after a preamble of an
// unknown protocol is found at the same offset, with the same hello,
// whatever the chunks the client's bytes arrive in.
func TestMidStreamScanSplitInvariant(t *testing.T) {
	hello, _ := hex.DecodeString(midHello)
	preamble := []byte("HELLO custom-protocol/1\r\n\x16\x03\x01 not a hello\r\n")
	data := append(append([]byte(nil), preamble...), hello...)
	ts := time.Unix(1e9, 0)
	for _, size := range []int{1, 2, 3, 7, 13, 40, len(data)} {
		a := New(Config{}, Handler{})
		s := newTestStream(a)
		for off := 0; off < len(data); off += size {
			chunk := append([]byte(nil), data[off:min(off+size, len(data))]...)
			s.feed(tls.ClientToServer, chunk, ts)
			s.offset[tls.ClientToServer] += int64(len(chunk))
			for i := range chunk {
				chunk[i] = 'Z' // the stream must have copied what it keeps
			}
		}
		if s.kind != kindTLS || s.conn.Protocol != "tls" || s.conn.StartTLS != "" {
			t.Fatalf("chunks of %d: kind %v protocol %q starttls %q", size, s.kind, s.conn.Protocol, s.conn.StartTLS)
		}
		if s.conn.TLSOffset != int64(len(preamble)) {
			t.Errorf("chunks of %d: tls_offset %d, want %d", size, s.conn.TLSOffset, len(preamble))
		}
		ch := s.conn.TLS.ClientHello
		if ch == nil || len(ch.CipherSuites) != 2 || ch.CipherSuites[0] != 0xc02f {
			t.Errorf("chunks of %d: ClientHello %+v", size, ch)
		}
	}
}

// TestMidStreamScanLimit: an unknown protocol's client that sends
// maxLookAhead bytes without a ClientHello ends the scan, reported once
// as tls_scan_limit; a hello past the cap is not looked for.
func TestMidStreamScanLimit(t *testing.T) {
	hello, _ := hex.DecodeString(midHello)
	kinds := map[string]int{}
	a := New(Config{}, Handler{Anomaly: func(an facts.Anomaly) { kinds[an.Kind]++ }})
	s := newTestStream(a)
	ts := time.Unix(1e9, 0)
	junk := bytes.Repeat([]byte("no tls here "), 100)
	for sent := 0; sent < maxLookAhead+len(junk); sent += len(junk) {
		s.feed(tls.ClientToServer, junk, ts)
	}
	s.feed(tls.ClientToServer, hello, ts)
	if kinds[anomalyScanLimit] != 1 || len(kinds) != 1 {
		t.Errorf("anomalies %v, want one %s", kinds, anomalyScanLimit)
	}
	if s.kind != kindOther || !s.done || s.conn.TLS != nil {
		t.Errorf("kind %v done %v TLS %v: want an unknown stream only counted", s.kind, s.done, s.conn.TLS != nil)
	}
}
