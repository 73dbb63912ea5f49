package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// naiveJA4 is JA4 written the plain way (fmt, strings.Join, sort on fresh
// slices) straight from JA4.md: the benchmark baseline, and in FuzzJA4 a
// second implementation the buffer-reusing one must agree with.
func naiveJA4(ch *tls.ClientHello, transport byte) (string, string) {
	var ciphers, exts, sigs []string
	nExt, sni := 0, "i"
	for _, c := range ch.CipherSuites {
		if !isGREASE(c) {
			ciphers = append(ciphers, fmt.Sprintf("%04x", c))
		}
	}
	for _, e := range ch.Extensions {
		if isGREASE(e) {
			continue
		}
		nExt++
		if e == 0 {
			sni = "d"
		}
		if e != 0 && e != 16 {
			exts = append(exts, fmt.Sprintf("%04x", e))
		}
	}
	for _, s := range ch.SignatureAlgorithms {
		if !isGREASE(s) {
			sigs = append(sigs, fmt.Sprintf("%04x", s))
		}
	}
	slices.Sort(ciphers)
	slices.Sort(exts)
	alpn := ""
	if len(ch.ALPNProtocols) > 0 {
		alpn = ch.ALPNProtocols[0]
	}
	ac := alpnChars(alpn)
	v := version(ch)
	a := fmt.Sprintf("%c%s%s%02d%02d%s", transport, v[:], sni, min(len(ciphers), 99), min(nExt, 99), ac[:])
	b := strings.Join(ciphers, ",")
	c := strings.Join(exts, ",")
	if len(sigs) > 0 {
		c += "_" + strings.Join(sigs, ",")
	}
	h := func(s string) string {
		if s == "" {
			return "000000000000"
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:12]
	}
	return a + "_" + h(b) + "_" + h(c), a + "_" + b + "_" + c
}

// fuzzHello builds ClientHello fields from fuzz bytes: a flags byte, then
// five length-prefixed lists of uint16 (ciphers, extensions, supported
// versions, signature algorithms, groups) and one of point formats.
func fuzzHello(data []byte, legacy uint16, alpn string) *tls.ClientHello {
	ch := &tls.ClientHello{LegacyVersion: legacy}
	if len(data) > 0 {
		ch.SSLv2 = data[0]&1 != 0
		if data[0]&2 != 0 {
			ch.ALPNProtocols = []string{alpn, "http/1.1"}
		}
		data = data[1:]
	}
	list16 := func() []uint16 {
		if len(data) == 0 {
			return nil
		}
		n := int(data[0])
		data = data[1:]
		var out []uint16
		for i := 0; i < n && len(data) >= 2; i++ {
			out = append(out, binary.BigEndian.Uint16(data))
			data = data[2:]
		}
		return out
	}
	ch.CipherSuites = list16()
	ch.Extensions = list16()
	ch.SupportedVersions = list16()
	ch.SignatureAlgorithms = list16()
	ch.SupportedGroups = list16()
	if len(data) > 0 {
		n := min(int(data[0]), len(data)-1)
		ch.ECPointFormats = data[1 : 1+n]
	}
	return ch
}

// encodeFuzz is fuzzHello's inverse for seeding from real hellos.
func encodeFuzz(ch *tls.ClientHello) []byte {
	var flags byte
	if ch.SSLv2 {
		flags |= 1
	}
	if len(ch.ALPNProtocols) > 0 {
		flags |= 2
	}
	b := []byte{flags}
	for _, l := range [][]uint16{ch.CipherSuites, ch.Extensions, ch.SupportedVersions, ch.SignatureAlgorithms, ch.SupportedGroups} {
		l = l[:min(len(l), 255)]
		b = append(b, byte(len(l)))
		for _, v := range l {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	}
	b = append(b, byte(len(ch.ECPointFormats)))
	return append(b, ch.ECPointFormats...)
}

func FuzzJA4(f *testing.F) {
	ch := specHello()
	alpn := ""
	if len(ch.ALPNProtocols) > 0 {
		alpn = ch.ALPNProtocols[0]
	}
	f.Add(encodeFuzz(ch), ch.LegacyVersion, alpn, byte('t'))
	f.Add([]byte{}, uint16(0), "", byte('q'))
	f.Add(encodeFuzz(&tls.ClientHello{Extensions: []uint16{0, 16}, ALPNProtocols: []string{"\xba\xad"}}), uint16(0x0301), "\xba\xad", byte('d'))
	// Every TCP ClientHello of FoxIO's browsing capture and the odd-ALPN one.
	for _, rel := range []string{"ja4/pcap/tls-handshake.pcapng", "ja4/pcap/tls-non-ascii-alpn.pcapng"} {
		for _, ch := range realClientHellos(f, rel) {
			f.Add(encodeFuzz(ch), ch.LegacyVersion, first(ch.ALPNProtocols), byte('t'))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, legacy uint16, alpn string, transport byte) {
		ch := fuzzHello(data, legacy, alpn)
		tr := "tqd"[int(transport)%3]
		ja4, ja4r := JA4(ch, tr)
		if !ja4Shape(ja4) {
			t.Fatalf("JA4 %q has the wrong shape", ja4)
		}
		if ja4r[:10] != ja4[:10] || ja4r[10] != '_' {
			t.Fatalf("JA4_r %q does not start with part a of %q", ja4r, ja4)
		}
		nj, nr := naiveJA4(ch, tr)
		if ja4 != nj || ja4r != nr {
			t.Fatalf("JA4 %s / %s\nnaive %s / %s", ja4, ja4r, nj, nr)
		}
		// The cipher counts in part a match the raw list.
		rawB, _, _ := strings.Cut(ja4r[11:], "_")
		n := 0
		if rawB != "" {
			n = strings.Count(rawB, ",") + 1
		}
		if got, _ := strconv.Atoi(ja4[4:6]); got != min(n, 99) {
			t.Fatalf("cipher count %s, raw list has %d", ja4[4:6], n)
		}

		hash, full := JA3(ch)
		if ch.SSLv2 {
			if hash != "" || full != "" {
				t.Fatalf("SSLv2 JA3 = %q %q", hash, full)
			}
			return
		}
		if sum := md5.Sum([]byte(full)); hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("JA3 %s is not the MD5 of %q", hash, full)
		}
		if strings.Count(full, ",") != 4 {
			t.Fatalf("JA3 string %q does not have five fields", full)
		}
	})
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
