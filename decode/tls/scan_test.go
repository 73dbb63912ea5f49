package tls

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// A ClientHello record (labelled, after the Packetbeat style) for the
// scanner: TLS 1.0 record, TLS 1.2 hello, empty session id, two suites.
var scanHello = "16" + "0301" + "002f" + // record: handshake, TLS 1.0, 47 bytes
	"01" + "00002b" + // client_hello, 43 bytes
	"0303" + // client_version TLS 1.2
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + // random
	"00" + // session_id
	"0004" + "c02f" + "00ff" + // cipher_suites
	"0100" + // compression_methods: null
	"0000" // extensions

// An SSLv2 CLIENT-HELLO (RFC 6101, E.1): 3 cipher specs, no session id,
// a 16-byte challenge.
var scanSSLv2 = "8022" + "01" + "0301" + "0009" + "0000" + "0010" + "010080" + "030080" + "070080" +
	"000102030405060708090a0b0c0d0e0f"

func TestFindClientHelloAfterPreamble(t *testing.T) {
	hello, _ := hex.DecodeString(scanHello)
	v2, _ := hex.DecodeString(scanSSLv2)
	tests := []struct {
		name string
		in   []byte
		off  int
		v    Verdict
	}{
		{"at the start", hello, 0, Yes},
		{"after a STARTTLS line", append([]byte("220 ready\r\n"), hello...), 11, Yes},
		{"a stray 0x16 first", append([]byte{0x16, 0x03, 0x01, 0x00, 0x01, 0x02, 'x'}, hello...), 7, Yes},
		{"SSLv2 after a preamble", append([]byte("GO\n"), v2...), 3, Yes},
		{"cut in the hello's header", append([]byte("ok "), hello[:20]...), 3, NeedMore},
		{"text only", []byte("EHLO example.org\r\n"), 18, No},
		{"a ServerHello is not one", append([]byte("x"), bytes.Replace(hello, []byte{0x01, 0x00, 0x00, 0x2b}, []byte{0x02, 0x00, 0x00, 0x2b}, 1)...), 0, No},
	}
	for _, tt := range tests {
		off, v := FindClientHello(tt.in)
		if v != tt.v || v != No && off != tt.off {
			t.Errorf("%s: FindClientHello = %d %v, want %d %v", tt.name, off, v, tt.off, tt.v)
		}
	}
	// Every prefix of the hello short of its cipher_suites length (here,
	// with an empty session id) is NeedMore at 0, never Yes.
	for n := 1; n < 5+4+2+32+1+2; n++ {
		if off, v := FindClientHello(hello[:n]); v == Yes || v == NeedMore && off != 0 {
			t.Errorf("prefix %d: %d %v", n, off, v)
		}
	}
}

// FuzzFindClientHello: the scanner never panics, its offset is inside
// the input, a Yes is at a place that judged alone is Yes, and NeedMore
// turns into the same answer as the whole once more bytes come (the scan
// is the same whether the input arrives whole or cut).
func FuzzFindClientHello(f *testing.F) {
	hello, _ := hex.DecodeString(scanHello)
	v2, _ := hex.DecodeString(scanSSLv2)
	f.Add(append([]byte("220 go ahead\r\n"), hello...), uint16(14))
	f.Add(append([]byte("S"), v2...), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		off, v := FindClientHello(b)
		if off < 0 || off > len(b) {
			t.Fatalf("offset %d of %d", off, len(b))
		}
		if v == Yes {
			if o, v2 := FindClientHello(b[off:]); o != 0 || v2 != Yes {
				t.Fatalf("Yes at %d, but %d %v from there", off, o, v2)
			}
		}
		c := int(cut) % (len(b) + 1)
		o1, v1 := FindClientHello(b[:c])
		switch v1 {
		case Yes:
			if v != Yes || off != o1 {
				t.Fatalf("prefix %d: Yes at %d, whole %d %v", c, o1, off, v)
			}
		case NeedMore:
			rest := b[o1:]
			o2, v2 := FindClientHello(rest)
			if v2 != No && o1+o2 != off || v2 != v && !(v2 == No && off >= o1) {
				t.Fatalf("prefix %d: NeedMore at %d, then %d %v; whole %d %v", c, o1, o2, v2, off, v)
			}
		case No:
			if v != No && off < c-helloPrefix {
				t.Fatalf("prefix %d: No, whole %d %v", c, off, v)
			}
		}
	})
}
