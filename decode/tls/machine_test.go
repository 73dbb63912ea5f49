package tls

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// splitMessages cuts a stream tshark reassembled into its handshake
// messages in the clear, in the order they were completed, both
// directions interleaved as tshark's chunks came, each with the stream
// offset of the record that completed it and the time of its chunk (as
// tcpStream.run gives Conn). It is a splitter of its own, not Conn's
// framer: it reads record headers and rebuilds messages across records,
// reads SSLv2-format hellos, skips plaintext alerts, stops a direction at its first application_data
// record, and at ChangeCipherSpec unless it is TLS 1.3's compatibility
// one between a HelloRetryRequest and the ServerHello (RFC 8446, D.4).
// ok is false for a stream it does not split (SSLv2 hellos, garbage).
func splitMessages(s *tcpStream) (msgs []Message, ok bool) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf [2][]byte
	var off [2]int64 // stream offset of buf[d][0]
	var hs [2][]byte
	var stopped [2]bool
	hrr, serverHello := false, false
	for i, g := range s.segs {
		d := g.from
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		if stopped[d] {
			off[d] += int64(len(g.data))
			continue
		}
		buf[d] = append(buf[d], g.data...)
		for len(buf[d]) >= 5 && !stopped[d] {
			b := buf[d]
			if b[0]&0x80 != 0 && off[d] == 0 {
				// RFC 5246, E.2: an SSLv2-format CLIENT-HELLO (1) or
				// SERVER-HELLO (4), a 2-byte header
				n := int(b[0]&0x7f)<<8 | int(b[1])
				if n < 1 || len(b) < 2+n {
					break
				}
				want, typ := uint8(1), TypeClientHello
				if d == ServerToClient {
					want, typ = 4, TypeServerHello
				}
				if b[2] != want {
					return nil, false
				}
				msgs = append(msgs, Message{Type: typ, Body: bytes.Clone(b[2 : 2+n]), Dir: d, Time: ts, SSLv2: true})
				buf[d], off[d] = b[2+n:], off[d]+int64(2+n)
				if d == ServerToClient {
					stopped[ClientToServer], stopped[ServerToClient] = true, true // the rest is SSLv2
				}
				continue
			}
			if b[1] != 3 {
				return nil, false // not a record header
			}
			n := int(binary.BigEndian.Uint16(b[3:5]))
			if len(b) < 5+n {
				break
			}
			recOff, body := off[d], b[5:5+n]
			buf[d], off[d] = b[5+n:], off[d]+int64(5+n)
			switch b[0] {
			case ContentHandshake:
			case ContentAlert:
				continue
			case ContentChangeCipherSpec:
				// RFC 8446, D.4: before a ServerHello a CCS protects
				// nothing (the client's after a ClientHello, the
				// HelloRetryRequest captured or not).
				if !serverHello && (hrr || d == ClientToServer) {
					continue
				}
				stopped[d] = true
				continue
			default:
				stopped[d] = true
				continue
			}
			hs[d] = append(hs[d], body...)
			for len(hs[d]) >= 4 {
				m := hs[d]
				ln := int(m[1])<<16 | int(m[2])<<8 | int(m[3])
				if len(m) < 4+ln {
					break
				}
				msgs = append(msgs, Message{Type: m[0], Body: bytes.Clone(m[4 : 4+ln]), Dir: d, Time: ts, Offset: recOff})
				hs[d] = m[4+ln:]
				if m[0] == TypeServerHello && d == ServerToClient && ln >= 34 {
					if bytes.Equal(m[6:38], helloRetryRandom[:]) {
						hrr = true
					} else {
						serverHello = true
						if v := serverHelloVersion(m[4 : 4+ln]); Version13(v) {
							// everything after it is protected
							stopped[ClientToServer], stopped[ServerToClient] = true, true
						}
					}
				}
			}
		}
	}
	return msgs, true
}

// serverHelloVersion reads the version a ServerHello chose, as the test's
// own check of where TLS 1.3 protection starts.
func serverHelloVersion(body []byte) uint16 {
	sh, _ := ParseServerHello(body)
	if sh == nil {
		return 0
	}
	return sh.Version()
}

// messageAnomalies keeps the anomalies the machine reports about
// messages (not the framer's), which both paths must give alike.
func messageAnomalies(l anomalyLog) anomalyLog {
	var out anomalyLog
	for _, a := range l {
		for _, k := range []string{AnomalyBadHandshake, AnomalyBadExtension, AnomalyBadCertificate, AnomalyChainTooLong, AnomalyUnexpectedMessage} {
			if strings.HasPrefix(a, k+" ") {
				out = append(out, a)
			}
		}
	}
	return out
}

// handshakeSteps are the plaintext handshake messages of Session.Events.
// An SSL 2.0 session's CLIENT-MASTER-KEY is not among them: after the
// hellos the framer reads SSLv2's own records (sslv2Record), which a feed
// of messages has no way to give.
func handshakeSteps(s *Session) []string {
	var out []string
	for _, e := range s.Events {
		if s.Version == VersionSSL20 && e.Handshake == TypeClientKeyExchange {
			continue
		}
		if e.Content == ContentHandshake && !e.Encrypted {
			out = append(out, fmt.Sprintf("%s:%d:%d@%s", e.From, e.Handshake, e.Length, e.Time.Format("05.000")))
		}
	}
	return out
}

func rawCerts(certs []*x509.Certificate) [][]byte {
	var out [][]byte
	for _, c := range certs {
		out = append(out, c.Raw)
	}
	return out
}

// TestMessagesGiveTheRecordPathsFacts feeds the handshake machine the
// messages of every TLS-over-TCP connection of the corpus directly, with
// no record layer, and checks that it learns what the record path (Conn)
// learns from the same stream, and what tshark's dissection says: SNI,
// offered suites, version, suite and certificates.
func TestMessagesGiveTheRecordPathsFacts(t *testing.T) {
	pcaps := corpusPcaps(t)
	if len(pcaps) == 0 {
		t.Fatal("no corpus captures with a tshark oracle")
	}
	var conns, withTshark, comparisons, ran atomic.Int64
	t.Cleanup(func() {
		if ran.Load() != int64(len(pcaps)) || t.Failed() {
			return
		}
		if conns.Load() < 150 || withTshark.Load() < 100 || comparisons.Load() < 1500 {
			t.Errorf("only %d connections fed as messages, %d compared with tshark, %d comparisons", conns.Load(), withTshark.Load(), comparisons.Load())
		}
		t.Logf("%d connections fed as messages, %d compared with tshark, %d comparisons", conns.Load(), withTshark.Load(), comparisons.Load())
	})
	for _, pcap := range pcaps {
		rel := strings.TrimPrefix(pcap, testutil.Corpus(t)+"/")
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ran.Add(1)
			if strings.Contains(rel, "dtls") || strings.Contains(rel, "/quic") {
				t.Skip("DTLS and QUIC are not TLS over TCP")
			}
			hellos := oracle.Hellos(t, pcap)
			want := oracle.Conns(hellos)
			offered := map[string][]uint16{}
			for _, h := range hellos {
				if h.Type == 1 && !h.UDP {
					offered[h.Src.String()+" "+h.Dst.String()] = h.CipherSuites
				}
			}
			var certs []*certRow
			certErrors, split := 0, 0
			streams := followStreams(t, pcap)
			for i := range streams {
				s := &streams[i]
				msgs, ok := splitMessages(s)
				if !ok || len(msgs) == 0 {
					continue
				}
				split++
				conns.Add(1)
				var recLog, msgLog anomalyLog
				rec := NewConn(Limits{}, recLog.add)
				for j, g := range s.segs {
					rec.Feed(g.from, g.data, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(j)*time.Millisecond))
				}
				h := NewHandshake(Limits{}, msgLog.add)
				for _, m := range msgs {
					h.Message(m)
				}
				got, recSess := h.Session(), rec.Session()
				key := s.client.String() + " " + s.server.String()
				n := compareSessions(t, key, got, recSess)
				if g, w := messageAnomalies(msgLog), messageAnomalies(recLog); !reflect.DeepEqual(g, w) {
					t.Errorf("%s: anomalies from messages %v, from records %v", key, g, w)
				}
				n++
				if !keyLogged(pcap) && got.Version != VersionSSL20 { // tshark's oracle has no SSLv2 certificates
					certs = append(certs, toCerts(got.Certificates)...)
					certs = append(certs, toCerts(got.ClientCertificates)...)
					certErrors += got.CertificateErrors
				}
				w, ok := want[key]
				if !ok || got.ClientHello == nil {
					comparisons.Add(int64(n))
					continue
				}
				withTshark.Add(1)
				n += 2
				if got.ClientHello.ServerName != w.SNI {
					t.Errorf("%s: SNI %q, tshark %q", key, got.ClientHello.ServerName, w.SNI)
				}
				if got.ClientHello.SSLv2 {
					// tshark's oracle lists no suites for an SSLv2-format
					// hello, and reads its CLIENT-MASTER-KEY as a
					// ServerHello (TestCorpusMatchesTshark says the same)
					comparisons.Add(int64(n - 1))
					continue
				}
				if o := offered[key]; !slices.Equal(got.ClientHello.CipherSuites, o) {
					t.Errorf("%s: offered suites %x, tshark %x", key, got.ClientHello.CipherSuites, o)
				}
				if w.ServerHellos > 0 && got.ServerHello != nil {
					n += 2
					if got.Version != w.Version {
						t.Errorf("%s: version %s, tshark %s", key, VersionName(got.Version), VersionName(w.Version))
					}
					if got.CipherSuite != w.CipherSuite {
						t.Errorf("%s: suite %s, tshark %s", key, CipherSuiteName(got.CipherSuite), CipherSuiteName(w.CipherSuite))
					}
				}
				comparisons.Add(int64(n))
			}
			if split > 0 && !keyLogged(pcap) {
				compareCerts(t, pcap, certs, certErrors)
				comparisons.Add(int64(len(certs)))
			}
		})
	}
}

// compareSessions checks the facts that come from handshake messages,
// and returns how many it compared.
func compareSessions(t *testing.T, key string, got, want *Session) int {
	t.Helper()
	n := 0
	eq := func(field string, g, w any) {
		n++
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s from messages %+v, from records %+v", key, field, g, w)
		}
	}
	eq("ClientHello", got.ClientHello, want.ClientHello)
	eq("FirstClientHello", got.FirstClientHello, want.FirstClientHello)
	eq("ServerHello", got.ServerHello, want.ServerHello)
	eq("HelloRetry", got.HelloRetry, want.HelloRetry)
	eq("Version", got.Version, want.Version)
	eq("CipherSuite", got.CipherSuite, want.CipherSuite)
	eq("ALPN", got.ALPN, want.ALPN)
	eq("Hidden", got.Hidden, want.Hidden)
	if want.Resumption != "ticket" || got.Resumption != "" {
		// A ticket accepted without a new one is seen at the server's
		// ChangeCipherSpec, a record.
		eq("Resumption", got.Resumption, want.Resumption)
	}
	eq("Certificates", rawCerts(got.Certificates), rawCerts(want.Certificates))
	eq("ClientCertificates", rawCerts(got.ClientCertificates), rawCerts(want.ClientCertificates))
	eq("CertificateErrors", got.CertificateErrors, want.CertificateErrors)
	eq("ClientCertSent", got.ClientCertSent, want.ClientCertSent)
	eq("KeyExchange", got.KeyExchange, want.KeyExchange)
	eq("CertificateRequested", got.CertificateRequested, want.CertificateRequested)
	eq("ServerHelloDone", got.ServerHelloDone, want.ServerHelloDone)
	eq("ClientKeyExchange", got.ClientKeyExchange, want.ClientKeyExchange)
	eq("NewSessionTicket", got.NewSessionTicket, want.NewSessionTicket)
	eq("ServerHelloAt", got.ServerHelloAt, want.ServerHelloAt)
	eq("handshake steps", handshakeSteps(got), handshakeSteps(want))
	return n
}

// TestAnomalyCatalogueDocumented: doc.go explains every kind of limits.go.
func TestAnomalyCatalogueDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range anomalyKinds {
		if !strings.Contains(string(doc), "//\t"+k+" ") {
			t.Errorf("doc.go does not list %s", k)
		}
	}
	if len(anomalyKinds) < 11 {
		t.Errorf("only %d kinds in the catalogue", len(anomalyKinds))
	}
}
