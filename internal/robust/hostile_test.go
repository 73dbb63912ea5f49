package robust

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// hostileBound is the live heap allowed while one hostile stream is
// decoded. Each case is one connection: the framer holds at most one record
// (tls.DefaultMaxBuffered, 18 KiB) per direction and a handshake message
// up to tls.DefaultMaxHandshake (256 KiB); the test binary itself runs in a
// few MiB. 64 MiB leaves room for the GC's own slack and would still catch
// a parser that buffers a claimed 16 MiB message or every tiny record.
const hostileBound = 64 << 20

// TestHostileLengths: valid TCP streams carrying a valid ClientHello and
// then TLS with absurd lengths. Each is decoded to the end, gives the
// anomaly decode/tls documents for it, and keeps what came before the
// damage (the ClientHello's SNI).
func TestHostileLengths(t *testing.T) {
	ch := record(ctHandshake, handshake(1, -1, clientHelloBody(nil)))
	sh := record(ctHandshake, handshake(2, -1, serverHelloBody()))
	junk := func(n int) []byte { return bytes.Repeat([]byte{0x41}, n) }
	// certificate builds a Certificate message (RFC 5246, 7.4.2) holding
	// one entry that claims certLen bytes and carries der.
	certificate := func(certLen int, der []byte) []byte {
		entry := append([]byte{byte(certLen >> 16), byte(certLen >> 8), byte(certLen)}, der...)
		body := append([]byte{byte(len(entry) >> 16), byte(len(entry) >> 8), byte(len(entry))}, entry...)
		return records(ctHandshake, handshake(11, -1, body))
	}
	tiny := func(rec []byte, total int) []byte { return bytes.Repeat(rec, total/len(rec)) }

	cases := []struct {
		name           string
		client, server []byte
		want           string // anomaly kind; "" when the input is legal and none is due
		sni            bool   // the ClientHello is still read
		notTLS         bool   // the stream must not be taken for TLS
	}{
		// A record length is 16 bits (RFC 8446, 5.1): 65535 is the
		// largest claim the wire allows, over tls.DefaultMaxRecord.
		{"record-claims-64k", append(append(ch, recordHeader(ctHandshake, 0xffff)...), junk(4096)...), sh, "tls_record_too_long", true, false},
		// A stream that starts with such a header is not taken for TLS
		// (tls.Sniff): the bytes are only counted, and the look for a
		// ClientHello after a preamble ends at its cap (tls_scan_limit).
		{"record-claims-64k-first", append(recordHeader(ctHandshake, 0xffff), junk(70000)...), nil, "tls_scan_limit", false, true},
		// A handshake length is 24 bits: a Certificate claiming 16 MiB,
		// followed by 200 KiB of its "body" in well-formed records.
		{"handshake-claims-16m", ch, append(append(sh, records(ctHandshake, handshake(11, 1<<24-1, nil))[:9]...), records(ctHandshake, junk(200<<10))...), "tls_handshake_too_long", true, false},
		{"clienthello-claims-16m", records(ctHandshake, append(handshake(1, 1<<24-1, nil), junk(100<<10)...)), nil, "tls_handshake_too_long", false, false},
		// An extension claiming more bytes than the extensions block holds.
		{"extension-overruns-block", record(ctHandshake, handshake(1, -1, clientHelloBody([]byte{0x00, 0x10, 0xff, 0xff, 'h', '2'}))), sh, "tls_bad_extension", true, false},
		// supported_versions whose list claims 8 bytes and holds 2.
		{"extension-inner-overrun", record(ctHandshake, handshake(1, -1, clientHelloBody([]byte{0x00, 0x2b, 0x00, 0x03, 0x08, 0x03, 0x04}))), sh, "tls_bad_extension", true, false},
		// A Certificate entry claiming 16 MiB inside a 13-byte list.
		{"certificate-claims-16m", ch, append(append([]byte{}, sh...), certificate(1<<24-1, junk(10))...), "tls_bad_handshake", true, false},
		// A certificate of the length it claims that is not DER.
		{"certificate-not-der", ch, append(append([]byte{}, sh...), certificate(100, junk(100))...), "tls_bad_certificate", true, false},
		// A 100 KiB certificate: over tls.DefaultMaxCertificate, not parsed.
		{"certificate-100k", ch, append(append([]byte{}, sh...), certificate(100<<10, junk(100<<10))...), "tls_chain_too_long", true, false},
		// 2 MiB of empty alert records and of 1-byte ChangeCipherSpec
		// records: legal framing, no anomaly due but the caps they fill
		// (tls_events_limit, tls_alerts_limit: Session.Events and Alerts
		// are capped); memory must not grow with the record count.
		{"2m-empty-alerts", append(append([]byte{}, ch...), tiny(recordHeader(ctAlert, 0), 2<<20)...), sh, "tls_alerts_limit", true, false},
		{"2m-tiny-ccs", append(append([]byte{}, ch...), tiny(record(ctChangeCipherSpec, []byte{1}), 2<<20)...), tiny(record(ctChangeCipherSpec, []byte{1}), 1<<20), "tls_events_limit", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".pcap")
			g := newPcap(t, path)
			k := g.open(addrN(1), server)
			k.send(false, tc.client)
			k.send(true, tc.server)
			k.close()
			g.close()

			var conn *tls.Session
			o := finishes(t, tc.name, func() *outcome { return runFile(path, options{sampleEvery: 200}) })
			if o.openErr != nil || o.readErr != nil || o.writeErr != nil {
				t.Fatalf("open %v, read %v, write %v", o.openErr, o.readErr, o.writeErr)
			}
			if o.conns != 1 {
				t.Fatalf("%d connections reported, want 1", o.conns)
			}
			c := o.result.Captures[0].Connections[0]
			conn = c.TLS
			an := o.anomalies()
			t.Logf("%d packets, anomalies %v, peak heap in use %.1f MiB (alloc %.1f MiB)", o.packets, an, mib(o.peakInuse), mib(o.peakAlloc))
			if tc.want != "" && an[tc.want] == 0 {
				t.Errorf("no %s anomaly; got %v", tc.want, an)
			}
			if capsOnly := strings.HasSuffix(tc.want, "_limit"); tc.want == "" || capsOnly {
				for k := range an {
					if k != "flow_evicted" && !(capsOnly && strings.HasSuffix(k, "_limit")) {
						t.Errorf("unexpected anomaly %s on legal framing", k)
					}
				}
			}
			if tc.notTLS {
				if conn != nil || c.Bytes[tls.ClientToServer] != uint64(len(tc.client)) {
					t.Errorf("protocol %q, %d client bytes counted, want no TLS and %d", c.Protocol, c.Bytes[tls.ClientToServer], len(tc.client))
				}
				return
			}
			if conn == nil {
				t.Fatalf("connection not decoded as TLS (protocol %q)", c.Protocol)
			}
			if tc.sni && (conn.ClientHello == nil || conn.ClientHello.ServerName != "robust.example") {
				t.Errorf("the ClientHello before the damage was lost")
			}
			if len(conn.Events) > tls.MaxEvents || len(conn.Alerts) > tls.MaxEvents {
				t.Errorf("%d events, %d alerts kept: over tls.MaxEvents %d", len(conn.Events), len(conn.Alerts), tls.MaxEvents)
			}
			if o.peakInuse > hostileBound {
				t.Errorf("heap in use peaked at %.1f MiB, over the %.0f MiB bound", mib(o.peakInuse), mib(hostileBound))
			}
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
