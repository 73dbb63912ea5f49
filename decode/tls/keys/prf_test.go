package keys

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The TLS 1.2 PRF test vectors posted to the IETF TLS WG list
// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), label
// "test label"; SHA-512 is not a TLS 1.2 PRF of any suite here but checks
// P_hash with another block size.
func TestPRF12Vectors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		h            func() hash.Hash
		secret, seed string
		want         string
	}{
		{"SHA-256", sha256.New, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
			"e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" +
				"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
				"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
				"87347b66"},
		{"SHA-384", sha512.New384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
			"7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd" +
				"e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd" +
				"8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425" +
				"9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6" +
				"91c8f3a26854308d5eaa3be85e0990703d73e56f"},
		{"SHA-512", sha512.New, "b0323523c1853599584d88568bbb05eb", "d4640e12e4bcdbfb437f03e6ae418ee5",
			"1261f588c798c5c201ff036e7a9cb5edcd7fe3f94c669a122a4638d7d508b283" +
				"042df6789875c7147e906d868bc75c45e20eb40c1cf4a1713b27371f68432592" +
				"f7dc8ea8ef223e12ea8507841311bf68653d0cfc4056d811f025c45ddfa6e6fe" +
				"c702f054b409d6f28dd0a3233e498da41a3e75c5630eedbe22fe254e33a1b0e9" +
				"f6b9826675bec7d01a845658dc9c397545401d40b9f46c7a400ee1b8f81ca0a6" +
				"0d1a397a1028bff5d2ef5066126842fb8da4197632bdb54ff6633f86bbc836e6" +
				"40d4d898"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.want)
			got := prf12(tc.h, unhex(t, tc.secret), "test label", unhex(t, tc.seed), len(want))
			if !bytes.Equal(got, want) {
				t.Errorf("PRF = %x\nwant %x", got, want)
			}
		})
	}
}

// The TLS 1.0/1.1 PRF (MD5 XOR SHA-1) vector that circulated on the IETF
// TLS list (msg01589, archived): secret 48 x 0xab, label "PRF Testvector",
// seed 64 x 0xcd, 104 bytes out.
func TestPRF10Vector(t *testing.T) {
	want := unhex(t, "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754"+
		"443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff6"+
		"9255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f"+
		"1afbc655a8c9a013")
	got := prf10(bytes.Repeat([]byte{0xab}, 48), "PRF Testvector", bytes.Repeat([]byte{0xcd}, 64), len(want))
	if !bytes.Equal(got, want) {
		t.Errorf("PRF = %x\nwant %x", got, want)
	}
}
