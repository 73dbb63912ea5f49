package keys

import (
	"bytes"
	"crypto/aes"
	"testing"
)

// RFC 3610, 8: packet vectors #1-#24 (a selection covering both keys, M =
// 8 and 10, 8- and 12-byte headers and lengths around block boundaries).
// The header is the additional data, authenticated but not encrypted; out
// is the ciphertext then the tag, as the RFC prints it after the header.
var rfc3610Vectors = []struct {
	n                        int
	key, nonce, hdr, pt, out string
	m                        int
}{
	{1, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 03 02 01 00 A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07",
		"08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E",
		"58 8C 97 9A 61 C6 63 D2 F0 66 D0 C2 C0 F9 89 80 6D 5F 6B 61 DA C3 84 17 E8 D1 2C FD F9 26 E0", 8},
	{2, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 04 03 02 01 A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07",
		"08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
		"72 C9 1A 36 E1 35 F8 CF 29 1C A8 94 08 5C 87 E3 CC 15 C4 39 C9 E4 3A 3B A0 91 D5 6E 10 40 09 16", 8},
	{4, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 06 05 04 03 A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07 08 09 0A 0B",
		"0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E",
		"A2 8C 68 65 93 9A 9A 79 FA AA 5C 4C 2A 9D 4A 91 CD AC 8C 96 C8 61 B9 C9 E6 1E F1", 8},
	{7, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 0A 09 08 07 A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07",
		"08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
		"7B 75 39 9A C0 83 1D D2 F0 BB D7 58 79 A2 FD 8F 6C AE 6B 6C D9 B7 DB 24 C1 7B 44 33 F4 34 96 3F 34 B4", 10},
	{9, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 0B 0A 09 08 A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07",
		"08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20",
		"82 53 1A 60 CC 24 94 5A 4B 82 79 18 1A B5 C8 4D F2 1C E7 F9 B7 3F 42 E1 97 EA 9C 07 E5 6B 5E B1 7E 5F 4E", 10},
	{12, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF", "00 00 00 0E 0D 0C 0B A0 A1 A2 A3 A4 A5", "00 01 02 03 04 05 06 07 08 09 0A 0B",
		"0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20",
		"C0 FF A0 D6 F0 5B DB 67 F2 4D 43 A4 33 8D 2A A4 BE D7 B2 0E 43 CD 1A A3 16 62 E7 AD 65 D6 DB", 10},
	{13, "D7 82 8D 13 B2 B0 BD C3 25 A7 62 36 DF 93 CC 6B", "00 41 2B 4E A9 CD BE 3C 96 96 76 6C FA", "0B E1 A8 8B AC E0 18 B1",
		"08 E8 CF 97 D8 20 EA 25 84 60 E9 6A D9 CF 52 89 05 4D 89 5C EA C4 7C",
		"4C B9 7F 86 A2 A4 68 9A 87 79 47 AB 80 91 EF 53 86 A6 FF BD D0 80 F8 E7 8C F7 CB 0C DD D7 B3", 8},
	{17, "D7 82 8D 13 B2 B0 BD C3 25 A7 62 36 DF 93 CC 6B", "00 F8 B6 78 09 4E 3B 3C 96 96 76 6C FA", "77 B6 0F 01 1C 03 E1 52 58 99 BC AE",
		"E8 8B 6A 46 C7 8D 63 E5 2E B8 C5 46 EF B5 DE 6F 75 E9 CC 0D",
		"55 45 FF 1A 08 5E E2 EF BF 52 B2 E0 4B EE 1E 23 36 C7 3E 3F 76 2C 0C 77 44 FE 7E 3C", 8},
	{19, "D7 82 8D 13 B2 B0 BD C3 25 A7 62 36 DF 93 CC 6B", "00 42 FF F8 F1 95 1C 3C 96 96 76 6C FA", "D8 5B C7 E6 9F 94 4F B8",
		"8A 19 B9 50 BC F7 1A 01 8E 5E 67 01 C9 17 87 65 98 09 D6 7D BE DD 18",
		"BC 21 8D AA 94 74 27 B6 DB 38 6A 99 AC 1A EF 23 AD E0 B5 29 39 CB 6A 63 7C F9 BE C2 40 88 97 C6 BA", 10},
	{24, "D7 82 8D 13 B2 B0 BD C3 25 A7 62 36 DF 93 CC 6B", "00 8D 49 3B 30 AE 8B 3C 96 96 76 6C FA", "6E 37 A6 EF 54 6D 95 5D 34 AB 60 59",
		"AB F2 1C 0B 02 FE B8 8F 85 6D F4 A3 73 81 BC E3 CC 12 85 17 D4",
		"F3 29 05 B8 8A 64 1B 04 B9 C9 FF B5 8C C3 90 90 0F 3D A1 2A B1 6D CE 9E 82 EF A1 6D A6 20 59", 10},
}

func TestCCMRFC3610Vectors(t *testing.T) {
	for _, v := range rfc3610Vectors {
		b, err := aes.NewCipher(unhex(t, v.key))
		if err != nil {
			t.Fatal(err)
		}
		nonce, hdr, pt, out := unhex(t, v.nonce), unhex(t, v.hdr), unhex(t, v.pt), unhex(t, v.out)
		c, err := newCCM(b, v.m, len(nonce))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Seal(nil, nonce, pt, hdr); !bytes.Equal(got, out) {
			t.Errorf("vector #%d: Seal = %X\nwant %X", v.n, got, out)
		}
		got, err := c.Open(make([]byte, 0, 64), nonce, out, hdr)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("vector #%d: Open = %X, %v; want %X", v.n, got, err, pt)
		}
		// Every single-bit change of the ciphertext, tag or header fails.
		for _, buf := range [][]byte{out, hdr} {
			for i := range buf {
				buf[i] ^= 0x01
				if got, err := c.Open(nil, nonce, out, hdr); err == nil || got != nil {
					t.Errorf("vector #%d: Open succeeded with byte %d changed", v.n, i)
				}
				buf[i] ^= 0x01
			}
		}
	}
}

// NIST SP 800-38C, Appendix C: examples 1-4, AES-128 key 40..4f. They
// cover what RFC 3610's packets do not: nonces of 7, 8 and 12 bytes (12 is
// TLS's, RFC 6655), tags of 4, 6 and 14 bytes, and in example 4 2^16 bytes
// of associated data, whose length takes the 0xfffe form (RFC 3610, 2.2).
func TestCCMSP80038CExamples(t *testing.T) {
	seq := func(from, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(from + i)
		}
		return b
	}
	for _, ex := range []struct {
		n          int
		nonce, ad  []byte
		pt         []byte
		tagLen     int
		ciphertext string
	}{
		{1, seq(0x10, 7), seq(0, 8), seq(0x20, 4), 4, "7162015b4dac255d"},
		{2, seq(0x10, 8), seq(0, 16), seq(0x20, 16), 6, "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd"},
		{3, seq(0x10, 12), seq(0, 20), seq(0x20, 24), 8, "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951"},
		{4, seq(0x10, 13), seq(0, 1<<16), seq(0x20, 32), 14,
			"69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b"},
	} {
		b, _ := aes.NewCipher(seq(0x40, 16))
		c, err := newCCM(b, ex.tagLen, len(ex.nonce))
		if err != nil {
			t.Fatal(err)
		}
		want := unhex(t, ex.ciphertext)
		if got := c.Seal(nil, ex.nonce, ex.pt, ex.ad); !bytes.Equal(got, want) {
			t.Errorf("example %d: Seal = %x\nwant %x", ex.n, got, want)
		}
		if got, err := c.Open(nil, ex.nonce, want, ex.ad); err != nil || !bytes.Equal(got, ex.pt) {
			t.Errorf("example %d: Open = %x, %v", ex.n, got, err)
		}
	}
}

// FuzzCCM: for any message, associated data, nonce and tag length, Open
// undoes Seal, and a ciphertext changed in one byte never opens. Seeded
// from the RFC 3610 packet vectors.
func FuzzCCM(f *testing.F) {
	for _, v := range rfc3610Vectors {
		f.Add(unhex(f, v.nonce), unhex(f, v.hdr), unhex(f, v.pt), uint8(v.m), uint16(0))
	}
	b, _ := aes.NewCipher(bytes.Repeat([]byte{0x42}, 16))
	f.Fuzz(func(t *testing.T, nonce, ad, pt []byte, tagLen uint8, flip uint16) {
		m := 4 + 2*int(tagLen%7)
		if len(nonce) < 7 || len(nonce) > 13 {
			return
		}
		c, err := newCCM(b, m, len(nonce))
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(pt)) > c.maxLen() {
			return
		}
		ct := c.Seal(nil, nonce, pt, ad)
		got, err := c.Open(nil, nonce, ct, ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open(Seal(%x)) = %x, %v", pt, got, err)
		}
		ct[int(flip)%len(ct)] ^= 1 + byte(flip>>8)%255
		if got, err := c.Open(nil, nonce, ct, ad); err == nil || got != nil {
			t.Fatalf("a changed ciphertext opened: %x", got)
		}
	})
}
